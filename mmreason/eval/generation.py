"""Generation backends for evaluation: transformers in-process, or any OpenAI-compatible server (vLLM/SGLang).

Both take conversations in HF chat format whose image parts carry their image (`{"type": "image", "image": PIL}`)
and return one string per conversation. Greedy decoding by default, as the benchmarks' official settings.

* [`TransformersBackend`]: `AutoModelForImageTextToText`-style model + processor, batched (left padding).
* [`OpenAIBackend`]: `/v1/chat/completions` with images as base64 data URIs, requests in parallel threads; the
  `openai` client retries transient server errors (429/5xx, timeouts) with backoff. A request that still fails is
  returned as an [`GenerationError`] so the run keeps going and the row can be retried on resume. vLLM 0.33 cannot
  share an environment with transformers 5.23, so this is how vLLM-served exports are evaluated.
"""

from __future__ import annotations

import base64
import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from ..model.chat_templates import QWEN_EVAL_SYSTEM
from ..model.image_io import load_rgb


@dataclass
class GenerationError:
    """A request that failed after the client's retries."""

    message: str


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


def image_data_uri(image: Any) -> str:
    """A PNG data URI for an image given as PIL, bytes, a path or a `datasets` dict."""
    rgb = load_rgb(image)
    buffer = io.BytesIO()
    rgb.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def to_openai_messages(conversation: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """HF chat messages → OpenAI chat messages (`image_url` parts with data URIs)."""
    messages = []
    for message in conversation:
        content = message["content"]
        if isinstance(content, str):
            messages.append({"role": message["role"], "content": content})
            continue
        parts = []
        for part in content:
            if part["type"] == "image":
                parts.append({"type": "image_url", "image_url": {"url": image_data_uri(part["image"])}})
            elif part["type"] == "text":
                parts.append({"type": "text", "text": part.get("text") or ""})
        messages.append({"role": message["role"], "content": parts})
    return messages


class OpenAIBackend:
    """Greedy generation through an OpenAI-compatible `/v1/chat/completions` endpoint.

    Args:
        base_url: e.g. `http://localhost:8000/v1` (`vllm serve <export> --limit-mm-per-prompt '{"image": 4}'`).
        model: the served model name.
        api_key: the server's key ("EMPTY" for a local vLLM).
        max_new_tokens: `max_tokens` per request.
        concurrency: parallel requests.
        max_retries / timeout: the `openai` client's retry policy for 429/5xx/timeouts.
        system_prompt: system turn added to every conversation (`None`: the server's template default).
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str = "EMPTY",
        max_new_tokens: int = 1024,
        concurrency: int = 8,
        max_retries: int = 5,
        timeout: float = 600.0,
        system_prompt: str | None = QWEN_EVAL_SYSTEM,
    ):
        try:
            from openai import OpenAI
        except ImportError as error:
            raise ImportError('the OpenAI-compatible backend needs `pip install "mmreason[eval]"` (openai)') from error
        self.client = OpenAI(base_url=base_url, api_key=api_key, max_retries=max_retries, timeout=timeout)
        self.model, self.max_new_tokens, self.concurrency = model, max_new_tokens, concurrency
        self.system_prompt = system_prompt

    def settings(self) -> dict[str, Any]:
        """What decides the outputs (the eval runner keys resumption on it): served model and decoding."""
        return {
            "backend": "openai", "served_model": self.model, "max_new_tokens": self.max_new_tokens,
            "temperature": 0.0, "system_prompt": self.system_prompt,
        }  # fmt: skip

    def _one(self, conversation: list[dict[str, Any]]) -> str | GenerationError:
        import openai

        messages = to_openai_messages(conversation)
        if self.system_prompt is not None and messages[0]["role"] != "system":
            messages.insert(0, {"role": "system", "content": self.system_prompt})
        try:
            reply = self.client.chat.completions.create(
                model=self.model, messages=messages, max_tokens=self.max_new_tokens, temperature=0.0
            )
        except openai.OpenAIError as error:
            return GenerationError(f"{type(error).__name__}: {error}")
        return reply.choices[0].message.content or ""

    def generate(self, conversations: list[list[dict[str, Any]]]) -> list[str | GenerationError]:
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(self._one, conversations))


__all__ = ["GenerationError", "OpenAIBackend", "TransformersBackend", "image_data_uri", "to_openai_messages"]
