"""Reference side of the by-hand vLLM check (run in mmreason's environment): build a tiny servable model at the
requested geometry, export it for vLLM, and write mmreason's own prompt token counts and greedy ids for images of
several sizes to `OUT/reference.json` (the images to `OUT/images/`).

    python integrations/vllm/check/reference.py OUT [--ratio anyres_max_4]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from mmreason.model.convert import convert_checkpoint
from mmreason.testing import build_tiny, make_image

SIZES = [(200, 160), (640, 480), (1153, 944), (47, 423), (1920, 300)]  # (width, height); three are downscaled
QUESTION = "What is in the image?"
MAX_NEW_TOKENS = 12


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--ratio", default="anyres_max_4")
    args = parser.parse_args()
    out = Path(args.out)
    (out / "images").mkdir(parents=True, exist_ok=True)
    model, processor = build_tiny(servable=True, real_geometry=True, vision_aspect_ratio=args.ratio)
    model.save_pretrained(out / "mmreason")
    processor.save_pretrained(out / "mmreason")
    convert_checkpoint(out / "mmreason", out / "llava_onevision", to="llava_onevision")
    cases = []
    for width, height in SIZES:
        image = make_image(width, height, seed=width + height)
        path = out / "images" / f"{width}x{height}.png"
        image.save(path)
        messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": QUESTION}]}]
        text = processor.apply_chat_template(messages, add_generation_prompt=True)
        inputs = processor(images=[image], text=text, return_tensors="pt")
        with torch.no_grad():
            ids = model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
        new = ids[0, inputs["input_ids"].shape[1]:].tolist()
        cases.append({"image": str(path), "width": width, "height": height,
                      "prompt_tokens": int(inputs["input_ids"].shape[1]), "ids": new,
                      "text": processor.tokenizer.decode(new, skip_special_tokens=True)})  # fmt: skip
        print(width, height, cases[-1]["prompt_tokens"], new)
    (out / "reference.json").write_text(json.dumps({"ratio": args.ratio, "question": QUESTION,
                                                    "max_new_tokens": MAX_NEW_TOKENS, "cases": cases}, indent=1))


if __name__ == "__main__":
    main()
