"""[`OpenAIBackend`]: generation through any OpenAI-compatible server (vLLM/SGLang), requests in parallel."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..model.chat_templates import QWEN_EVAL_SYSTEM
from .errors import GenerationError, UnsupportedRequest
from .openai_messages import to_openai_messages
from .sampling import Sampling, per_request, truncate_at_stop
from .served_geometry import check_served_geometry


class OpenAIBackend:
    """Generation through an OpenAI-compatible `/v1/chat/completions` endpoint (greedy by default).

    Args:
        base_url: e.g. `http://localhost:8000/v1` (`vllm serve <export> --limit-mm-per-prompt '{"image": 4}'`).
        model: the served model name.
        api_key: the server's key ("EMPTY" for a local vLLM).
        max_new_tokens: `max_tokens` per request (of requests that set none).
        concurrency: parallel requests.
        max_retries / timeout: the `openai` client's retry policy for 429/5xx/timeouts.
        system_prompt: system turn added to every conversation (`None`: the server's template default).
        served_config: the served model's folder or `config.json` (default: the `root` vLLM lists in `/v1/models`,
            when it is a local folder). An mmreason/llava_onevision config whose `vision_aspect_ratio` is not vLLM's
            `anyres_max_9` is refused ([`ServedGeometryError`]) ...
        allow_geometry_mismatch: ... unless this is set; the mismatch is then in `settings()` (`geometry_mismatch`).
        sampling: the decoding of requests that bring none (default: greedy, `temperature=0`).
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
        served_config: str | None = None,
        allow_geometry_mismatch: bool = False,
        sampling: Sampling | None = None,
    ):
        try:
            from openai import OpenAI
        except ImportError as error:
            raise ImportError('the OpenAI-compatible backend needs `pip install "mmreason[eval]"` (openai)') from error
        self.client = OpenAI(base_url=base_url, api_key=api_key, max_retries=max_retries, timeout=timeout)
        self.model, self.max_new_tokens, self.concurrency = model, max_new_tokens, concurrency
        self.system_prompt = system_prompt
        self.sampling = sampling or Sampling()
        self.geometry_mismatch = check_served_geometry(self.client, model, served_config, allow_geometry_mismatch)

    @property
    def default_sampling(self) -> Sampling:
        """The decoding of requests that bring none (budget: `max_new_tokens`)."""
        return self.sampling.with_budget(self.max_new_tokens)

    def settings(self) -> dict[str, Any]:
        """What decides the outputs (the eval runner keys resumption on it): served model and decoding (and an
        allowed geometry mismatch)."""
        default = self.default_sampling
        settings = {
            "backend": "openai", "served_model": self.model, "system_prompt": self.system_prompt,
            **default.settings(), "do_sample": default.sampled, "temperature": default.effective_temperature,
        }  # fmt: skip
        if self.geometry_mismatch:
            settings["geometry_mismatch"] = self.geometry_mismatch
        return settings

    def _one(self, conversation: list[dict[str, Any]], sampling: Sampling) -> str | GenerationError:
        import openai

        if sampling.num_beams > 1:
            raise UnsupportedRequest("the OpenAI-compatible backend does not do beam search (num_beams > 1)")
        messages = to_openai_messages(conversation)
        if self.system_prompt is not None and messages[0]["role"] != "system":
            messages.insert(0, {"role": "system", "content": self.system_prompt})
        extra: dict[str, Any] = {}
        if sampling.stop:
            extra["stop"] = list(sampling.stop)
        if sampling.sampled and sampling.top_p is not None:
            extra["top_p"] = sampling.top_p
        try:
            reply = self.client.chat.completions.create(
                model=self.model, messages=messages, max_tokens=sampling.max_new_tokens,
                temperature=sampling.effective_temperature, **extra,
            )  # fmt: skip
        except openai.OpenAIError as error:
            return GenerationError(f"{type(error).__name__}: {error}")
        return truncate_at_stop(reply.choices[0].message.content or "", sampling.stop)

    def generate(
        self, conversations: list[list[dict[str, Any]]], sampling: Sampling | list[Sampling] | None = None
    ) -> list[str | GenerationError]:
        """One answer per conversation; `sampling`: one setting for all, or one per conversation."""
        settings = per_request(sampling, len(conversations), self.default_sampling)
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(self._one, conversations, settings))


__all__ = ["OpenAIBackend"]
