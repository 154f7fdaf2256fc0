"""Is a served model the model that was trained? [`check_server`] sends images of several sizes to an
OpenAI-compatible server and compares its prompt token counts and greedy token ids with the checkpoint run
in-process by mmreason (`mmreason check-server URL MODEL --checkpoint PATH`).

The sizes cover what vLLM's stock LLaVA-OneVision gets wrong for MAmmoTH-VL-style checkpoints: images large enough
to be downscaled under `anyres_max_N` (vLLM applies N=9 whatever the config says) and extreme aspect ratios where
LLaVA-NeXT's truncating unpad keeps fewer columns than the rounding one; with `multi_image=True` also one prompt with
several images (LLaVA-NeXT pads each to one tile, stock vLLM tiles each anyres). Token ids come from vLLM's
`return_token_ids` extension; a server without it is compared on the decoded text.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from typing import Any

SIZES = ((200, 160), (640, 480), (1153, 944), (47, 423), (1920, 300))
"""(width, height) of the check's images: two small, one above the anyres_max_4 downscale threshold, two extreme."""
MULTI_IMAGE_SIZES = ((200, 160), (47, 423), (1153, 944))
"""(width, height) of the images of the multi-image prompt (a server needs `--limit-mm-per-prompt` >= 3 images)."""
QUESTION = "What is in the image?"

Size = tuple[int, int]


@dataclass
class ImageCheck:
    """One prompt's comparison (one image, or several): what mmreason computes in-process and what the server
    answered."""

    sizes: tuple[Size, ...]  #: (width, height) of the prompt's images
    expected_prompt_tokens: int
    served_prompt_tokens: int | None
    expected_ids: list[int]
    served_ids: list[int] | None
    expected_text: str = ""
    served_text: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        """The image sizes, e.g. `200x160` or `200x160+47x423`."""
        return "+".join(f"{w}x{h}" for w, h in self.sizes)

    @property
    def ok(self) -> bool:
        """Same prompt token count and the same greedy ids (or text, when the server returns no ids)."""
        if self.served_prompt_tokens is None:
            return False
        same_output = self.served_ids == self.expected_ids if self.served_ids is not None else (
            self.served_text == self.expected_text)  # fmt: skip
        return self.served_prompt_tokens == self.expected_prompt_tokens and same_output


def _data_uri(image: Any) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def served_messages(images: list[Any]) -> list[dict[str, Any]]:
    """The check's question about `images` as OpenAI chat messages (`image_url` parts with PNG data URIs)."""
    parts = [{"type": "image_url", "image_url": {"url": _data_uri(image)}} for image in images]
    return [{"role": "user", "content": [*parts, {"type": "text", "text": QUESTION}]}]


def in_process_inputs(processor: Any, images: list[Any], return_tensors: str = "pt") -> Any:
    """The processor's inputs for the check's question about `images` (all before the question), through the
    checkpoint's chat template: what a server applying the same template tokenizes."""
    content = [{"type": "image"} for _ in images] + [{"type": "text", "text": QUESTION}]
    text = processor.apply_chat_template([{"role": "user", "content": content}], add_generation_prompt=True)
    return processor(images=images, text=text, return_tensors=return_tensors)


def in_process_answer(model: Any, processor: Any, image: Any, max_new_tokens: int) -> tuple[int, list[int], str]:
    """`(prompt tokens, greedy new ids, their text)` of the check's question about `image` (or a list of images, all
    before the question), run in-process."""
    import torch

    inputs = in_process_inputs(processor, image if isinstance(image, list) else [image])
    with torch.no_grad():
        output = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
    ids = output[0, inputs["input_ids"].shape[1] :].tolist()
    return int(inputs["input_ids"].shape[1]), ids, processor.tokenizer.decode(ids, skip_special_tokens=True)


def check_image(width: int, height: int) -> Any:
    """The check's image of a size (the same pixels in every run)."""
    from ..testing import make_image

    return make_image(width, height, seed=width + height)


def check_server(base_url: str, served_model: str, checkpoint: str | tuple[Any, Any], *,
                 sizes: tuple[Size, ...] = SIZES, multi_image: bool = False, max_new_tokens: int = 12,
                 api_key: str = "EMPTY", timeout: float = 600.0) -> list[ImageCheck]:  # fmt: skip
    """Compare a served model with `checkpoint` (a path mmreason opens, or `(model, processor)`) on one image per
    size, then (`multi_image`) one prompt with the images of `MULTI_IMAGE_SIZES` (greedy, `max_new_tokens` new
    tokens, the chat template's default system turn on both sides)."""
    from openai import BadRequestError, OpenAI

    from ..model import MMReasonForConditionalGeneration, MMReasonProcessor

    if isinstance(checkpoint, tuple):
        model, processor = checkpoint
    else:
        model = MMReasonForConditionalGeneration.from_pretrained(checkpoint).eval()
        processor = MMReasonProcessor.from_pretrained(checkpoint)
    client = OpenAI(base_url=base_url, api_key=api_key, timeout=timeout, max_retries=2)
    checks = []
    prompts = [(size,) for size in sizes] + ([MULTI_IMAGE_SIZES] if multi_image else [])
    for prompt in prompts:
        images = [check_image(width, height) for width, height in prompt]
        prompt_tokens, expected, expected_text = in_process_answer(model, processor, images, max_new_tokens)
        check = ImageCheck(tuple(prompt), prompt_tokens, None, expected, None, expected_text)
        try:
            reply = client.chat.completions.create(
                model=served_model,
                max_tokens=max_new_tokens,
                temperature=0,
                extra_body={"return_token_ids": True},
                messages=served_messages(images),
            )
        except BadRequestError as error:  # e.g. another geometry's prompt no longer fits the context
            check.notes.append(f"the server refused the prompt: {error.message}")
            checks.append(check)
            continue
        choice = reply.choices[0]
        check.served_prompt_tokens = reply.usage.prompt_tokens if reply.usage else None
        check.served_ids = (choice.model_extra or {}).get("token_ids")
        check.served_text = choice.message.content or ""
        if check.served_ids is None:
            check.notes.append("the server returned no token ids (not vLLM?): compared on text")
        checks.append(check)
    return checks


__all__ = [
    "MULTI_IMAGE_SIZES", "QUESTION", "SIZES", "ImageCheck", "check_image", "check_server", "in_process_answer",
    "in_process_inputs", "served_messages",
]  # fmt: skip
