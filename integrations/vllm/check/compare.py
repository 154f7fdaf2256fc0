"""Client side of the by-hand vLLM check (standard library only): send each reference image to a vLLM server and
compare the prompt token count and the greedy ids with mmreason's (`reference.json` from `reference.py`).

    python integrations/vllm/check/compare.py OUT http://localhost:8000/v1 MODEL
"""

from __future__ import annotations

import base64
import json
import sys
import urllib.request
from pathlib import Path


def main() -> None:
    out, base_url, model = Path(sys.argv[1]), sys.argv[2].rstrip("/"), sys.argv[3]
    reference = json.loads((out / "reference.json").read_text())
    same = 0
    for case in reference["cases"]:
        image = base64.b64encode(Path(case["image"]).read_bytes()).decode()
        body = {"model": model, "max_tokens": reference["max_new_tokens"], "temperature": 0, "return_token_ids": True,
                "messages": [{"role": "user", "content": [
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{image}"}},
                    {"type": "text", "text": reference["question"]}]}]}  # fmt: skip
        request = urllib.request.Request(f"{base_url}/chat/completions", data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})  # fmt: skip
        with urllib.request.urlopen(request, timeout=600) as response:
            reply = json.loads(response.read())
        choice = reply["choices"][0]
        ids = choice.get("token_ids") or []
        ok = reply["usage"]["prompt_tokens"] == case["prompt_tokens"] and ids == case["ids"]
        same += ok
        print(f"{case['width']}x{case['height']}: prompt tokens {reply['usage']['prompt_tokens']} "
              f"(mmreason {case['prompt_tokens']}), ids {'equal' if ids == case['ids'] else 'differ'}"
              f" {ids} vs {case['ids']}")  # fmt: skip
    print(f"{same}/{len(reference['cases'])} images: same prompt tokens and greedy ids")


if __name__ == "__main__":
    main()
