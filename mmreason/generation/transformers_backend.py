"""[`TransformersBackend`]: batched generation with an in-process model (left padding), greedy by default."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from ..model.chat_templates import QWEN_EVAL_SYSTEM
from .errors import GenerationError
from .sampling import Sampling, per_request, request_seed, truncate_at_stop
from .videos import decode_videos

logger = logging.getLogger("mmreason.generation")

#: the first batch size tried with `batch_size="auto"` when no `max_batch_size` is given
AUTO_START = 64


class TransformersBackend:
    """Batched generation with an in-process model.

    Args:
        model_path: any checkpoint `MMReasonForConditionalGeneration.from_pretrained` reads, or a loaded
            `(model, processor)` pair.
        batch_size: conversations per `generate` call, or `"auto"` (also lmms-eval's `"auto:N"`): start at
            `max_batch_size` and halve the batch on a CUDA out-of-memory error, keeping the size that fits.
        max_new_tokens: generation budget (of requests that set none).
        system_prompt: system turn (default: the `qwen_2_5` eval prompt MAmmoTH-VL's lmms-eval runs used).
        dtype / device / attn_implementation: passed to `from_pretrained` (`device=None`: CUDA when available).
        max_batch_size: the first size tried with `batch_size="auto"` (default 64).
        sampling: the decoding of requests that bring none (default: greedy).

    Sampling ([`Sampling`]): `n` samples per request, temperature/top-k/top-p (transformers' defaults where unset:
    top-k 50), stop strings, and `continue_final_message` (the final assistant turn is continued: no generation
    prompt, the answer is the continuation). With a `seed`, each sample is drawn from its own generator seeded by
    `request_seed(seed, conversation, k)` ([`mmreason.generation.seeded`]), so answers do not depend on the
    batch; without one, `generate` draws from torch's global random state.

    Video parts (`{"type": "video", "video": frames | path}`) go through the processor; a video file is decoded
    with `torchcodec` (`pip install torchcodec`) and sampled to the image processor's `max_frames`.
    """

    def __init__(
        self,
        model_path: str | tuple[Any, Any],
        batch_size: int | str = 8,
        max_new_tokens: int = 1024,
        system_prompt: str | None = QWEN_EVAL_SYSTEM,
        dtype: str = "auto",
        device: str | None = None,
        attn_implementation: str | None = None,
        max_batch_size: int | None = None,
        sampling: Sampling | None = None,
    ):
        import torch

        from ..model import MMReasonForConditionalGeneration, MMReasonProcessor

        self.auto_batch = str(batch_size).split(":")[0] == "auto"
        if self.auto_batch:
            batch_size = int(max_batch_size or AUTO_START)
        elif not str(batch_size).isdigit() or int(batch_size) < 1:
            raise ValueError(f"batch_size must be a positive integer or 'auto', not {batch_size!r}")
        if isinstance(model_path, tuple):
            self.model, self.processor = model_path
        else:
            self.model = MMReasonForConditionalGeneration.from_pretrained(
                model_path, dtype=dtype, attn_implementation=attn_implementation
            )
            self.processor = MMReasonProcessor.from_pretrained(model_path)
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model = self.model.to(device).eval()
        self.batch_size, self.max_new_tokens, self.system_prompt = int(batch_size), max_new_tokens, system_prompt
        self.sampling = sampling or Sampling()

    @property
    def default_sampling(self) -> Sampling:
        """The decoding of requests that bring none (budget: `max_new_tokens`)."""
        return self.sampling.with_budget(self.max_new_tokens)

    def settings(self) -> dict[str, Any]:
        """What decides the outputs (the eval runner keys resumption on it): checkpoint, dtype, decoding."""
        default = self.default_sampling
        return {
            "backend": "transformers", "checkpoint": str(getattr(self.model, "name_or_path", "")),
            "dtype": str(self.model.dtype), "system_prompt": self.system_prompt, **default.settings(),
            "do_sample": default.sampled, "temperature": default.effective_temperature,
        }  # fmt: skip

    def generate(
        self, conversations: list[list[dict[str, Any]]], sampling: Sampling | list[Sampling] | None = None
    ) -> list[Any]:
        """One answer per conversation (a list of `n` answers for requests with `n > 1`); `sampling`: one setting
        for all, or one per conversation (requests with the same setting are batched together)."""
        settings = per_request(sampling, len(conversations), self.default_sampling)
        samples = self._samples(conversations, settings)
        return [s[0] if setting.n == 1 else s for s, setting in zip(samples, settings)]

    def generate_samples(
        self, conversations: list[list[dict[str, Any]]], sampling: Sampling | list[Sampling] | None = None
    ) -> list[list[str] | GenerationError]:
        """`n` answers per conversation, always as a list (see [`generate`])."""
        settings = per_request(sampling, len(conversations), self.default_sampling)
        return self._samples(conversations, settings)

    def _samples(self, conversations: list[list[dict[str, Any]]], settings: list[Sampling]) -> list[Any]:
        """Every request's `n` samples: a greedy request is decoded once (its samples are equal); a seeded one draws
        sample `k` from `request_seed(seed, conversation, k)`, whatever else is in its batch."""
        groups: dict[Sampling, list[tuple[int, int]]] = {}
        for index, setting in enumerate(settings):
            draws = setting.n if setting.sampled else 1
            groups.setdefault(setting, []).extend((index, k) for k in range(draws))
        samples: list[list[str]] = [[] for _ in conversations]
        for setting, items in groups.items():
            seeds = None
            if setting.sampled and setting.seed is not None:
                seeds = [request_seed(setting.seed, conversations[i], k) for i, k in items]
            texts = self._generate_group([conversations[i] for i, _ in items], setting, seeds)
            for (index, _), text in zip(items, texts):
                samples[index].append(text)
        return [s if setting.sampled else s * setting.n for s, setting in zip(samples, settings)]

    def _generate_group(
        self, conversations: list[list[dict[str, Any]]], sampling: Sampling, seeds: list[int] | None = None
    ) -> list[str]:
        import torch

        outputs: list[str] = []
        while len(outputs) < len(conversations):
            start, stop = len(outputs), len(outputs) + self.batch_size
            batch_seeds = None if seeds is None else seeds[start:stop]
            try:
                outputs.extend(self._generate_batch(conversations[start:stop], sampling, batch_seeds))
            except torch.OutOfMemoryError:
                if not self.auto_batch or self.batch_size == 1:
                    raise
                self.batch_size //= 2
                logger.warning("out of memory: batch_size auto now tries %d", self.batch_size)
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()
        return outputs

    def _generate_batch(
        self, batch: list[list[dict[str, Any]]], sampling: Sampling, seeds: list[int] | None = None
    ) -> list[str]:
        import torch

        inputs = self._inputs(batch, sampling)
        with torch.inference_mode():
            generated = self.model.generate(**inputs, **self._generate_kwargs(sampling, seeds))
        new = generated[:, inputs["input_ids"].shape[1] :]
        return [truncate_at_stop(t, sampling.stop) for t in self.processor.batch_decode(new, skip_special_tokens=True)]

    def _inputs(self, batch: list[list[dict[str, Any]]], sampling: Sampling) -> Any:
        """The processor's tensors of `batch` (system turn added, videos decoded, left padding) on the device."""
        return self.processor.apply_chat_template(
            [decode_videos(self._with_system(c)) for c in batch], tokenize=True,
            add_generation_prompt=not sampling.continue_final_message,
            continue_final_message=sampling.continue_final_message,
            return_dict=True, return_tensors="pt", processor_kwargs={"padding": True, "padding_side": "left"},
        ).to(self.model.device)  # fmt: skip

    def _generate_kwargs(self, sampling: Sampling, seeds: list[int] | None) -> dict[str, Any]:
        """`generate` keyword arguments of `sampling` (per-sample generators when `seeds` are given)."""
        kwargs: dict[str, Any] = {"max_new_tokens": sampling.max_new_tokens, "do_sample": sampling.sampled}
        if seeds is not None:
            from .seeded import seeded_generate_kwargs  # torch and transformers only once a model runs

            kwargs.update(seeded_generate_kwargs(sampling, seeds, self.model.generation_config))
        elif sampling.sampled:
            kwargs["temperature"] = sampling.effective_temperature
            if sampling.top_p is not None:
                kwargs["top_p"] = sampling.top_p
            if sampling.top_k is not None:
                kwargs["top_k"] = sampling.top_k
        if sampling.num_beams > 1:
            kwargs["num_beams"] = sampling.num_beams
        if sampling.stop:
            kwargs.update(stop_strings=list(sampling.stop), tokenizer=self.processor.tokenizer)
        return kwargs

    def stream(self, conversation: list[dict[str, Any]], sampling: Sampling | None = None) -> Iterator[str]:
        """The answer to one conversation as text chunks, yielded while it is generated (transformers'
        `TextIteratorStreamer`; `generate` runs in a worker thread). Closing the iterator early (a chat UI's stop
        button) stops the generation at the next token; an error in `generate` is raised here. Stop strings end
        the generation but stay in the streamed text; `n` is ignored (one answer)."""
        import threading

        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        sampling = (sampling or self.sampling).with_budget(self.max_new_tokens)
        seeded = sampling.sampled and sampling.seed is not None
        seeds = [request_seed(sampling.seed, conversation, 0)] if seeded else None
        inputs = self._inputs([conversation], sampling)
        kwargs = self._generate_kwargs(sampling, seeds)
        stopped, failure = threading.Event(), []

        class _Stop(StoppingCriteria):
            def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **_: Any) -> torch.Tensor:
                return torch.full((input_ids.shape[0],), stopped.is_set(), dtype=torch.bool, device=input_ids.device)

        kwargs["stopping_criteria"] = StoppingCriteriaList([_Stop(), *kwargs.pop("stopping_criteria", [])])
        streamer = TextIteratorStreamer(self.processor.tokenizer, skip_prompt=True, skip_special_tokens=True)

        def work() -> None:
            try:
                with torch.inference_mode():
                    self.model.generate(**inputs, **kwargs, streamer=streamer)
            except BaseException as error:  # handed to the consumer; the streamer must still end
                failure.append(error)
                streamer.end()

        worker = threading.Thread(target=work, daemon=True)
        worker.start()
        try:
            for chunk in streamer:
                if chunk:
                    yield chunk
        finally:
            stopped.set()
            worker.join()
        if failure:
            raise failure[0]

    def _with_system(self, conversation: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if self.system_prompt is None or conversation[0]["role"] == "system":
            return conversation
        return [{"role": "system", "content": [{"type": "text", "text": self.system_prompt}]}, *conversation]


__all__ = ["AUTO_START", "TransformersBackend"]
