"""`MMReasonLmms`: an lmms-eval chat model backed by mmreason's generation backends.

    lmms-eval --model mmreason --model_args pretrained=MAmmoTH-VL/MAmmoTH-VL-8B --tasks mmmu_val
    lmms-eval --model mmreason --model_args pretrained=served-name,base_url=http://localhost:8000/v1 --tasks ...

`pretrained` is any checkpoint mmreason loads (mmreason, llava_onevision, LLaVA-NeXT releases such as
MAmmoTH-VL-8B, which lmms-eval's own `llava_onevision` model needs the LLaVA-NeXT repo and decord for), or, with
`base_url`, the model name on an OpenAI-compatible server (a vLLM-served export). Only generation requests are
supported; the reasoning benchmarks need nothing else.

What lmms-eval passes is honoured:

* `--batch_size N|auto|auto:N`, `--max_batch_size`, `--device` may also be given in `--model_args`; a value given
  both ways must agree (else a `ValueError` naming both). lmms-eval's `--batch_size` default (the integer 1; an
  explicit `--batch_size 1` arrives as the string "1") counts as unset, so `--model_args ...,batch_size=4` alone
  works. `auto`: start at `max_batch_size` (64) and halve on CUDA
  out-of-memory. With `base_url`, a numeric batch size sets the parallel requests (`concurrency`, default 8) and
  `--device` is refused (the server decides).
* the task's `generation_kwargs`: `max_new_tokens`, `temperature`/`do_sample`/`top_p` (sampled when
  `temperature > 0` or `do_sample: true`; greedy otherwise) and `until` stop sequences (generation stops there and
  the answer is cut before them). lmms-eval's own default `until: ["\\n\\n"]` (its few-shot delimiter, added to
  every task that sets none) is dropped, as lmms-eval's `qwen2_5_vl` does: it would cut a reasoning chain at its
  first blank line.
* video parts go to the processor (frames, or a file decoded with torchcodec) or, with `base_url`, to the server
  as `video_url` data URIs.
* with `base_url`, a served model whose image geometry vLLM does not implement is refused (see
  `mmreason.generation.served_geometry`; `served_config=PATH`, `allow_geometry_mismatch=true`).

A request that still fails after the backend's retries is not returned as an answer: by default the batch raises
(`on_error=raise`, naming the failed requests and the reason); `on_error=empty` returns "" for it instead (scored
as a wrong answer) and logs a warning with the count.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from lmms_eval.api.model import lmms

from ..generation import GenerationError, OpenAIBackend, Sampling, TransformersBackend

logger = logging.getLogger("mmreason.eval")

#: lmms-eval's own flags that `create_from_arg_string` passes next to `--model_args`, with their CLI defaults
LMMS_EVAL_FLAGS = {"batch_size": 1, "max_batch_size": None, "device": None}
#: lmms-eval's `until` default (`fewshot_delimiter`), dropped as its `qwen2_5_vl` model does
LMMS_DEFAULT_UNTIL = "\n\n"


class GenerationFailed(RuntimeError):
    """Requests that failed after the backend's retries (never handed to lmms-eval as answers)."""


def merge_lmms_args(model_args: dict[str, Any], additional_config: dict[str, Any] | None) -> dict[str, Any]:
    """`--model_args` merged with lmms-eval's own `--batch_size`/`--max_batch_size`/`--device`: a flag left at
    lmms-eval's default (or `None`) yields to `--model_args`; the same setting given both ways must agree."""
    merged = dict(model_args)
    for key, value in (additional_config or {}).items():
        if value is None or (key in LMMS_EVAL_FLAGS and value == LMMS_EVAL_FLAGS[key] and key in merged):
            continue
        if key in merged and str(merged[key]) != str(value):
            raise ValueError(
                f"{key} is given twice with different values: {merged[key]!r} in --model_args and {value!r} as "
                f"lmms-eval's --{key}; give it once"
            )
        merged[key] = value
    return merged


def hf_messages(messages: Any) -> list[dict[str, Any]]:
    """lmms-eval chat messages (`{"type": "image"|"video", "url": ...}` parts, or a `ChatMessages`) → HF chat
    format. Audio parts are refused (no mmreason model reads audio)."""
    messages = getattr(messages, "messages", messages)
    converted = []
    for message in messages:
        message = message.model_dump() if hasattr(message, "model_dump") else message
        parts = []
        for part in message["content"]:
            part = part.model_dump() if hasattr(part, "model_dump") else part
            if part["type"] in ("image", "video"):
                kind = part["type"]
                parts.append({"type": kind, kind: part.get("url", part.get(kind))})
            elif part["type"] == "text":
                parts.append({"type": "text", "text": part["text"]})
            else:
                raise ValueError(f"mmreason's lmms-eval model reads text, image and video parts, not {part['type']!r}")
        converted.append({"role": message["role"], "content": parts})
    return converted


def request_sampling(gen_kwargs: dict[str, Any], max_new_tokens: int) -> Sampling:
    """A request's `generation_kwargs` → its [`Sampling`] (lmms-eval's default `until` dropped)."""
    sampling = Sampling.from_gen_kwargs(gen_kwargs, max_new_tokens)
    stop = tuple(s for s in sampling.stop if s != LMMS_DEFAULT_UNTIL)
    return replace(sampling, stop=stop)


class MMReasonLmms(lmms):
    """lmms-eval chat model (`is_simple = False`: requests carry `doc_to_messages`)."""

    is_simple = False

    def __init__(
        self,
        pretrained: str,
        base_url: str | None = None,
        api_key: str = "EMPTY",
        batch_size: int | str = 1,
        max_batch_size: int | str | None = None,
        device: str | None = None,
        max_new_tokens: int | str = 1024,
        dtype: str = "auto",
        attn_implementation: str | None = None,
        on_error: str = "raise",
        concurrency: int | str | None = None,
        served_config: str | None = None,
        allow_geometry_mismatch: bool | str = False,
        **kwargs: Any,
    ):
        super().__init__()
        if on_error not in ("raise", "empty"):
            raise ValueError(f"on_error must be 'raise' or 'empty', not {on_error!r}")
        self.on_error = on_error
        self.max_new_tokens = int(max_new_tokens)
        if base_url:
            if device:
                raise ValueError(f"--device {device} has no effect with base_url: the server decides; drop it")
            if concurrency is None:
                concurrency = int(batch_size) if str(batch_size).isdigit() and int(batch_size) > 1 else 8
            self.backend = OpenAIBackend(
                base_url, pretrained, api_key, self.max_new_tokens, concurrency=int(concurrency),
                served_config=served_config, allow_geometry_mismatch=str(allow_geometry_mismatch).lower() == "true",
            )  # fmt: skip
        else:
            self.backend = TransformersBackend(
                pretrained, batch_size, self.max_new_tokens, dtype=dtype, device=device,
                attn_implementation=attn_implementation, max_batch_size=None if max_batch_size is None else
                int(max_batch_size),
            )  # fmt: skip

    @classmethod
    def create_from_arg_string(cls, arg_string: str, additional_config: dict[str, Any] | None = None) -> MMReasonLmms:
        """lmms-eval's constructor hook: `--model_args` merged with its `--batch_size`/`--max_batch_size`/`--device`
        ([`merge_lmms_args`]; lmms-eval's own hook raises `TypeError` when both carry `batch_size`)."""
        from lmms_eval.utils import simple_parse_args_string

        return cls(**merge_lmms_args(simple_parse_args_string(arg_string), additional_config))

    def generate_until(self, requests: list[Any]) -> list[str]:
        conversations, sampling = [], []
        for request in requests:
            _, doc_to_messages, gen_kwargs, doc_id, task, split = request.args
            conversations.append(hf_messages(doc_to_messages(self.task_dict[task][split][doc_id])))
            sampling.append(request_sampling(gen_kwargs, self.max_new_tokens))
        outputs = self.backend.generate(conversations, sampling)
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


__all__ = ["LMMS_EVAL_FLAGS", "GenerationFailed", "MMReasonLmms", "hf_messages", "merge_lmms_args", "request_sampling"]
