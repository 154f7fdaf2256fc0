"""vLLM's offline engine (`vllm.LLM`, what `trl vllm-serve` runs for GRPO's server mode) with the plugin: compare the
prompt token count and greedy ids of each reference image with mmreason's (`reference.json` from `reference.py`).
Run in vLLM's environment:

    python integrations/vllm/check/offline.py OUT [--max-model-len 8192]
"""

from __future__ import annotations

import argparse
import base64
import json
from pathlib import Path


def main() -> None:
    from vllm import LLM, SamplingParams

    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--max-model-len", type=int, default=8192)
    args = parser.parse_args()
    out = Path(args.out)
    reference = json.loads((out / "reference.json").read_text())
    llm = LLM(model=str(out / "llava_onevision"), dtype="float32", max_model_len=args.max_model_len,
              enforce_eager=True, limit_mm_per_prompt={"image": 1})  # fmt: skip
    greedy = SamplingParams(temperature=0, max_tokens=reference["max_new_tokens"])
    same = 0
    for case in reference["cases"]:
        uri = "data:image/png;base64," + base64.b64encode(Path(case["image"]).read_bytes()).decode()
        messages = [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": uri}},
                                                 {"type": "text", "text": reference["question"]}]}]  # fmt: skip
        result = llm.chat(messages, greedy)[0]
        ids, prompt_tokens = list(result.outputs[0].token_ids), len(result.prompt_token_ids)
        ok = prompt_tokens == case["prompt_tokens"] and ids == case["ids"]
        same += ok
        print(f"{case['width']}x{case['height']}: prompt tokens {prompt_tokens} (mmreason {case['prompt_tokens']}), "
              f"ids {'equal' if ids == case['ids'] else 'differ'}")  # fmt: skip
    print(f"{same}/{len(reference['cases'])} images equal")


if __name__ == "__main__":  # vLLM starts its engine in a spawned process
    main()
