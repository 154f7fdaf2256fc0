"""Reference side of the by-hand vLLM check (run in mmreason's environment): build a tiny servable model at the
requested geometry, export it for vLLM, and write mmreason's own prompt token counts and greedy ids for images of
several sizes to `OUT/reference.json` (the images to `OUT/images/`).

    python integrations/vllm/check/reference.py OUT [--ratio anyres_max_4] [--unpad_rule truncate|round]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mmreason.generation.server_check import QUESTION, SIZES, check_image, in_process_answer
from mmreason.model.convert import convert_checkpoint
from mmreason.testing import build_tiny

MAX_NEW_TOKENS = 12


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--ratio", default="anyres_max_4")
    parser.add_argument("--unpad_rule", default="truncate", choices=["truncate", "round"])
    args = parser.parse_args()
    out = Path(args.out)
    (out / "images").mkdir(parents=True, exist_ok=True)
    model, processor = build_tiny(servable=True, real_geometry=True, vision_aspect_ratio=args.ratio,
                                  image_unpad_rule=args.unpad_rule)  # fmt: skip
    model.save_pretrained(out / "mmreason")
    processor.save_pretrained(out / "mmreason")
    convert_checkpoint(out / "mmreason", out / "llava_onevision", to="llava_onevision")
    cases = []
    for width, height in SIZES:  # the sizes and images of `mmreason check-server`
        image = check_image(width, height)
        path = out / "images" / f"{width}x{height}.png"
        image.save(path)
        prompt_tokens, ids, text = in_process_answer(model, processor, image, MAX_NEW_TOKENS)
        cases.append({"image": str(path), "width": width, "height": height, "prompt_tokens": prompt_tokens,
                      "ids": ids, "text": text})  # fmt: skip
        print(width, height, prompt_tokens, ids)
    (out / "reference.json").write_text(
        json.dumps(
            {"ratio": args.ratio, "question": QUESTION, "max_new_tokens": MAX_NEW_TOKENS, "cases": cases}, indent=1
        )
    )


if __name__ == "__main__":
    main()
