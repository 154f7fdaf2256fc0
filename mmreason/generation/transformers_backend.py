"""[`TransformersBackend`]: batched greedy generation with an in-process model (left padding)."""

from __future__ import annotations

from typing import Any

from ..model.chat_templates import QWEN_EVAL_SYSTEM
from .errors import GenerationError


class TransformersBackend:
    """Batched greedy generation with an in-process model.

    Args:
        model_path: any checkpoint `MMReasonForConditionalGeneration.from_pretrained` reads, or a loaded
            `(model, processor)` pair.
        batch_size: conversations per `generate` call.
        max_new_tokens: generation budget.
        system_prompt: system turn (default: the `qwen_2_5` eval prompt MAmmoTH-VL's lmms-eval runs used).
        dtype / device / attn_implementation: passed to `from_pretrained`.
    """

    def __init__(
        self,
        model_path: str | tuple[Any, Any],
        batch_size: int = 8,
        max_new_tokens: int = 1024,
        system_prompt: str | None = QWEN_EVAL_SYSTEM,
        dtype: str = "auto",
        device: str | None = None,
        attn_implementation: str | None = None,
    ):
        import torch

        from ..model import MMReasonForConditionalGeneration, MMReasonProcessor

        if isinstance(model_path, tuple):
            self.model, self.processor = model_path
        else:
            self.model = MMReasonForConditionalGeneration.from_pretrained(
                model_path, dtype=dtype, attn_implementation=attn_implementation
            )
            self.processor = MMReasonProcessor.from_pretrained(model_path)
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model = self.model.to(device).eval()
        self.batch_size, self.max_new_tokens, self.system_prompt = batch_size, max_new_tokens, system_prompt

    def settings(self) -> dict[str, Any]:
        """What decides the outputs (the eval runner keys resumption on it): checkpoint, dtype, decoding."""
        return {
            "backend": "transformers", "checkpoint": str(getattr(self.model, "name_or_path", "")),
            "dtype": str(self.model.dtype), "max_new_tokens": self.max_new_tokens, "do_sample": False,
            "system_prompt": self.system_prompt,
        }  # fmt: skip

    def generate(self, conversations: list[list[dict[str, Any]]]) -> list[str | GenerationError]:
        import torch

        outputs: list[str | GenerationError] = []
        for start in range(0, len(conversations), self.batch_size):
            batch = [self._with_system(c) for c in conversations[start : start + self.batch_size]]
            inputs = self.processor.apply_chat_template(
                batch, add_generation_prompt=True, tokenize=True, return_dict=True, return_tensors="pt",
                processor_kwargs={"padding": True, "padding_side": "left"},
            ).to(self.model.device)  # fmt: skip
            with torch.inference_mode():
                generated = self.model.generate(**inputs, max_new_tokens=self.max_new_tokens, do_sample=False)
            new = generated[:, inputs["input_ids"].shape[1] :]
            outputs.extend(self.processor.batch_decode(new, skip_special_tokens=True))
        return outputs

    def _with_system(self, conversation: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if self.system_prompt is None or conversation[0]["role"] == "system":
            return conversation
        return [{"role": "system", "content": [{"type": "text", "text": self.system_prompt}]}, *conversation]


__all__ = ["TransformersBackend"]
