"""What the pipelines share: reading a canonical row's question and answer, building requests, sampling n answers.

A pipeline's input is a canonical row (`mmreason.data.schema`): `[system] user assistant` messages whose image parts
take `images` in order. Requests are HF chat conversations whose image parts carry their image
(`{"type": "image", "image": PIL}`), what both generation backends take.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ...generation import GenerationError, Sampling
from ..stage import StageFailure


class RowError(ValueError):
    """An input row a pipeline cannot use (a permanent failure: retrying does not help)."""


class ParseError(ValueError):
    """Model output the pipeline cannot read (a retryable failure: a sampled rerun may parse)."""


@dataclass(frozen=True)
class Turn:
    """A single-turn row read for a pipeline.

    Attributes:
        user: the user turn's content parts, image parts filled with their images (`"image"` key).
        question: the user turn's text (its text parts joined).
        answer: the assistant turn's text.
        images: the row's images.
    """

    user: list[dict[str, Any]]
    question: str
    answer: str
    images: list[Any]

    @property
    def image_parts(self) -> list[dict[str, Any]]:
        """The user turn's image parts (with their images)."""
        return [part for part in self.user if part["type"] == "image"]


def text_of(content: Any) -> str:
    """The text of a message's content (a string, or the text parts of a part list joined)."""
    if isinstance(content, str):
        return content
    return "".join(part.get("text") or "" for part in content if part.get("type") == "text")


def _parts(content: Any, role: str) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if not isinstance(content, list) or not all(isinstance(part, dict) for part in content):
        raise RowError(f"the {role} turn's content is neither a string nor a list of parts")
    if any(part.get("type") not in ("text", "image") for part in content):
        raise RowError(f"only text and image parts are supported in the {role} turn (video rows are not)")
    if any(part.get("type") == "text" and not isinstance(part.get("text") or "", str) for part in content):
        raise RowError(f"a text part of the {role} turn is not a string")
    return content


def read_turn(row: dict[str, Any]) -> Turn:
    """The question and answer of a `[system] user assistant` row.

    Raises:
        RowError: other roles or turn counts, malformed content, video parts, an empty question, images that do not
            match the image parts.
    """
    messages = row.get("messages")
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise RowError("no messages list")
    messages = [m for m in messages if m.get("role") != "system"]
    if [m.get("role") for m in messages] != ["user", "assistant"]:
        raise RowError("not a single-turn row (want [system] user assistant)")
    parts, answer = _parts(messages[0].get("content"), "user"), _parts(messages[1].get("content"), "assistant")
    images = list(row.get("images") or [])
    if (slots := sum(part["type"] == "image" for part in parts)) != len(images):
        raise RowError(f"{slots} image parts for {len(images)} images")
    pictures = iter(images)
    parts = [{"type": "image", "image": next(pictures)} if part["type"] == "image"
             else {"type": "text", "text": part.get("text") or ""} for part in parts]  # fmt: skip
    question = text_of(parts).strip()
    if not question:
        raise RowError("the user turn has no text")
    return Turn(parts, question, text_of(answer).strip(), images)


def sampling(
    temperature: float = 0.0,
    top_k: int | None = None,
    top_p: float | None = None,
    max_new_tokens: int | None = None,
    continue_final_message: bool = False,
) -> Sampling:
    """The backends' [`Sampling`] of a request (greedy at `temperature=0`)."""
    return Sampling(max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p, top_k=top_k,
                    continue_final_message=continue_final_message)  # fmt: skip


def generate_n(
    backend: Any, conversations: list[list[dict[str, Any]]], setting: Any, n: int = 1
) -> list[list[str | GenerationError]]:
    """`n` answers per conversation: the backend's `generate_samples` (one request with `n` samples) where it has
    one, else each request sent `n` times with `n=1`."""
    if not conversations:
        return []
    if n > 1 and hasattr(backend, "generate_samples"):
        replies = backend.generate_samples(conversations, replace(setting, n=n))
        return [list(r) if isinstance(r, list | tuple) else [r] * n for r in replies]
    flat = backend.generate([c for c in conversations for _ in range(n)], setting)
    return [list(flat[i * n : (i + 1) * n]) for i in range(len(conversations))]


def backend_settings(backend: Any) -> dict[str, Any]:
    """`backend.settings()`, or the backend's class name when it has none."""
    return backend.settings() if hasattr(backend, "settings") else {"backend": type(backend).__name__}


def generation_failure(error: GenerationError, step: str) -> StageFailure:
    """A retryable [`StageFailure`] for a request that failed after the client's retries."""
    return StageFailure(f"{step}: generation failed ({error.message[:200]})", retryable=True)


def model_step(
    results: list[Any], items: dict[int, Any], step: str, backend: Any, setting: Any, parse: Any, request: Any
) -> dict[int, Any]:
    """One model call per item of a batch step: `request(index, item)` builds the conversation, `parse(reply)`
    reads the reply. A failed request or a [`ParseError`] becomes `results[index]` (a retryable
    [`StageFailure`]); the parsed replies come back by index."""
    indices = list(items)
    conversations = [request(i, items[i]) for i in indices]
    parsed: dict[int, Any] = {}
    for index, (reply,) in zip(indices, generate_n(backend, conversations, setting)):
        if not isinstance(reply, str):
            results[index] = generation_failure(reply, step)
            continue
        try:
            parsed[index] = parse(reply)
        except ParseError as error:
            results[index] = StageFailure(f"{error} in {reply[:80]!r}", retryable=True)
    return parsed


def user_message(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """`{"role": "user", "content": parts}`."""
    return {"role": "user", "content": parts}


def text_part(text: str) -> dict[str, str]:
    """`{"type": "text", "text": text}`."""
    return {"type": "text", "text": text}


def bare(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Content parts as a row stores them: image parts without their image (`{"type": "image"}`)."""
    return [{"type": "image"} if part["type"] == "image" else {"type": "text", "text": part["text"]} for part in parts]


__all__ = [
    "ParseError", "RowError", "Turn", "backend_settings", "bare", "generate_n", "generation_failure", "model_step",
    "read_turn", "sampling",
    "text_of", "text_part", "user_message",
]  # fmt: skip
