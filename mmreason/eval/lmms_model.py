"""`MMReasonLmms`: an lmms-eval chat model backed by mmreason's generation backends.

    lmms-eval --model mmreason --model_args pretrained=MAmmoTH-VL/MAmmoTH-VL-8B --tasks mmmu_val
    lmms-eval --model mmreason --model_args pretrained=served-name,base_url=http://localhost:8000/v1 --tasks ...

`pretrained` is any checkpoint mmreason loads (mmreason, llava_onevision, LLaVA-NeXT releases such as
MAmmoTH-VL-8B, which lmms-eval's own `llava_onevision` model needs the LLaVA-NeXT repo and decord for), or, with
`base_url`, the model name on an OpenAI-compatible server (a vLLM-served export). Only generation requests are
supported; the reasoning benchmarks need nothing else.

A request that still fails after the backend's retries is not returned as an answer: by default the batch raises
(`on_error=raise`, naming the failed requests and the reason); `on_error=empty` returns "" for it instead (scored
as a wrong answer) and logs a warning with the count.
"""

from __future__ import annotations

import logging
from typing import Any

from lmms_eval.api.model import lmms

from ..generation import GenerationError, OpenAIBackend, TransformersBackend

logger = logging.getLogger("mmreason.eval")


class GenerationFailed(RuntimeError):
    """Requests that failed after the backend's retries (never handed to lmms-eval as answers)."""


def hf_messages(messages: Any) -> list[dict[str, Any]]:
    """lmms-eval chat messages (`{"type": "image", "url": PIL}` parts, or a `ChatMessages`) → HF chat format."""
    messages = getattr(messages, "messages", messages)
    converted = []
    for message in messages:
        message = message.model_dump() if hasattr(message, "model_dump") else message
        parts = []
        for part in message["content"]:
            part = part.model_dump() if hasattr(part, "model_dump") else part
            if part["type"] == "image":
                parts.append({"type": "image", "image": part.get("url", part.get("image"))})
            elif part["type"] == "text":
                parts.append({"type": "text", "text": part["text"]})
        converted.append({"role": message["role"], "content": parts})
    return converted


class MMReasonLmms(lmms):
    """lmms-eval chat model (`is_simple = False`: requests carry `doc_to_messages`)."""

    is_simple = False

    def __init__(
        self,
        pretrained: str,
        base_url: str | None = None,
        api_key: str = "EMPTY",
        batch_size: int | str = 1,
        max_new_tokens: int | str = 1024,
        dtype: str = "auto",
        attn_implementation: str | None = None,
        on_error: str = "raise",
        **kwargs: Any,
    ):
        super().__init__()
        if on_error not in ("raise", "empty"):
            raise ValueError(f"on_error must be 'raise' or 'empty', not {on_error!r}")
        self.on_error = on_error
        self.max_new_tokens = int(max_new_tokens)
        if base_url:
            self.backend = OpenAIBackend(base_url, pretrained, api_key, self.max_new_tokens)
        else:
            self.backend = TransformersBackend(
                pretrained, int(batch_size), self.max_new_tokens, dtype=dtype, attn_implementation=attn_implementation
            )

    def generate_until(self, requests: list[Any]) -> list[str]:
        conversations, budgets = [], []
        for request in requests:
            _, doc_to_messages, gen_kwargs, doc_id, task, split = request.args
            conversations.append(hf_messages(doc_to_messages(self.task_dict[task][split][doc_id])))
            budgets.append(int(gen_kwargs.get("max_new_tokens", self.max_new_tokens)))
        self.backend.max_new_tokens = max(budgets, default=self.max_new_tokens)
        outputs = self.backend.generate(conversations)
        failed = [(r, o) for r, o in zip(requests, outputs) if isinstance(o, GenerationError)]
        if failed:
            where = ", ".join(f"{r.args[4]}[{r.args[3]}]" for r, _ in failed[:5])
            reason = failed[0][1].message
            message = f"{len(failed)} of {len(requests)} requests failed after retries ({where}): {reason}"
            if self.on_error == "raise":
                raise GenerationFailed(f"{message}; pass on_error=empty in --model_args to score them as empty")
            logger.warning("%s; returned as empty answers (on_error=empty)", message)
        return ["" if isinstance(output, GenerationError) else output for output in outputs]

    def loglikelihood(self, requests: list[Any]) -> list[tuple[float, bool]]:
        raise NotImplementedError("mmreason's lmms-eval model supports generation tasks only")

    def generate_until_multi_round(self, requests: list[Any]) -> list[str]:
        raise NotImplementedError("mmreason's lmms-eval model supports single-round generation tasks only")


__all__ = ["GenerationFailed", "MMReasonLmms", "hf_messages"]
