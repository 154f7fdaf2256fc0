"""[`OpenAIBackend`]: greedy generation through any OpenAI-compatible server (vLLM/SGLang), requests in parallel."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..model.chat_templates import QWEN_EVAL_SYSTEM
from .errors import GenerationError
from .openai_messages import to_openai_messages


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


__all__ = ["OpenAIBackend"]
