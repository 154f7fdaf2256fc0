"""[`JudgeClient`]: one chat completion per prompt through any OpenAI-compatible endpoint, temperature 0."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit


class JudgeError(RuntimeError):
    """A judge call that failed after the `openai` client's own retries (its message is the row's reason)."""


class JudgeClient:
    """Asks a judge model one user-turn prompt at a time.

    Args:
        base_url: the endpoint, e.g. `https://api.openai.com/v1` or a local `vllm serve` at `http://host:8000/v1`.
        model: the judge model name (the official scripts used GPT-4 / gpt-3.5-turbo).
        api_key: the key (`"EMPTY"` for a local server).
        max_tokens: completion budget (MathVista's `GPT_Model` default, 1024).
        max_retries / timeout: the `openai` client's retry policy (429, 5xx, timeouts); nothing else retries.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str = "EMPTY",
        max_tokens: int = 1024,
        max_retries: int = 5,
        timeout: float = 120.0,
    ) -> None:
        try:
            from openai import OpenAI
        except ImportError as error:
            raise ImportError('the LLM judge needs `pip install "mmreason[eval]"` (openai)') from error
        self.base_url, self.model, self.max_tokens = base_url, model, max_tokens
        self.client = OpenAI(base_url=base_url, api_key=api_key, max_retries=max_retries, timeout=timeout)

    @property
    def host(self) -> str:
        """The endpoint's host (and port): part of the judge's identity; the key and the path are not."""
        return urlsplit(self.base_url).netloc or self.base_url

    def identity(self) -> dict[str, Any]:
        """What decides the replies: host, model, decoding."""
        return {"host": self.host, "model": self.model, "temperature": 0.0, "max_tokens": self.max_tokens}

    def ask(self, prompt: str) -> str:
        """The judge's stripped reply to `prompt`; raises [`JudgeError`] when the call fails or the reply is empty."""
        import openai

        try:
            reply = self.client.chat.completions.create(
                model=self.model,
                messages=[{"role": "user", "content": prompt}],
                temperature=0.0,
                max_tokens=self.max_tokens,
            )
        except openai.OpenAIError as error:
            raise JudgeError(f"{type(error).__name__}: {error}") from error
        text = (reply.choices[0].message.content or "").strip() if reply.choices else ""
        if not text:
            raise JudgeError("the judge returned an empty reply")
        return text


__all__ = ["JudgeClient", "JudgeError"]
