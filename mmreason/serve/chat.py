"""The demo's chat turn: a Gradio multimodal message plus history -> a canonical conversation -> a streamed answer
shown as a collapsible reasoning section and the final answer apart.

Framework-free (plain message dicts in Gradio's OpenAI-style format), so it is tested without a UI; `app.py` wires it
into `gr.ChatInterface`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from ..generation import Sampling
from .reasoning import split_answer
from .uploads import DEFAULT_LIMITS, UploadLimits, read_uploads

#: the title of the collapsible reasoning message
REASONING_TITLE = "Reasoning"


def _files_and_text(content: Any) -> tuple[list[str], str]:
    """Paths and text of one history message's content, in any form Gradio 6 stores it."""
    if isinstance(content, str):
        return [], content
    if isinstance(content, tuple):  # a file message: (path, alt text)
        return [str(content[0])], ""
    if isinstance(content, dict):
        content = [content]
    paths, texts = [], []
    for item in content if isinstance(content, list) else []:
        if isinstance(item, str):
            texts.append(item)
        elif isinstance(item, dict) and item.get("type") == "text":
            texts.append(str(item.get("text") or ""))
        elif isinstance(item, dict):
            file = item.get("file", item)
            path = file.get("path") if isinstance(file, dict) else None
            if path:
                paths.append(str(path))
    return paths, "\n".join(texts)


def _user_turn(paths: list[str], text: str, limits: UploadLimits) -> tuple[dict[str, Any] | None, list[str]]:
    """A canonical user turn from uploaded files and text (None when nothing usable is left), and the problems."""
    uploads = read_uploads(paths, limits)
    text = "\n\n".join(t for t in (text.strip(), *uploads.texts) if t.strip())
    parts: list[dict[str, Any]] = [{"type": "image", "image": image} for image in uploads.images]
    if text:
        parts.append({"type": "text", "text": text})
    return ({"role": "user", "content": parts} if parts else None), uploads.problems


def to_conversation(
    message: dict[str, Any], history: list[dict[str, Any]], limits: UploadLimits = DEFAULT_LIMITS
) -> tuple[list[dict[str, Any]], list[str]]:
    """The canonical conversation (`mmreason.data.schema` messages, images as PIL) for the backend, and the problems
    with this turn's files. Earlier turns' images are read again; an assistant turn's messages (reasoning, final
    answer) are joined back into the model's own text; notices the demo itself added are left out."""
    conversation: list[dict[str, Any]] = []
    for entry in history:
        role, content = entry.get("role"), entry.get("content")
        if (entry.get("metadata") or {}).get("title") not in (None, REASONING_TITLE):
            continue  # a notice (refused upload, error), not the model's text
        paths, text = _files_and_text(content)
        if role == "user":
            turn, _ = _user_turn(paths, text, limits)
            if turn is None:
                continue
            if conversation and conversation[-1]["role"] == "user":  # Gradio stores each file as its own message
                conversation[-1]["content"].extend(turn["content"])
            else:
                conversation.append(turn)
        elif role == "assistant" and text:
            if conversation and conversation[-1]["role"] == "assistant":
                conversation[-1]["content"][0]["text"] += "\n" + text
            else:
                conversation.append({"role": "assistant", "content": [{"type": "text", "text": text}]})
    turn, problems = _user_turn([str(p.get("path", p)) if isinstance(p, dict) else str(p)
                                 for p in message.get("files") or []], message.get("text") or "", limits)  # fmt: skip
    if turn is not None:
        conversation.append(turn)
    return conversation, problems


def notice(text: str) -> dict[str, Any]:
    """A message from the demo itself (shown with a title, never sent to the model)."""
    return {"role": "assistant", "content": text, "metadata": {"title": "⚠️ Note"}}


def answer_messages(text: str, finished: bool, seconds: float) -> list[dict[str, Any]]:
    """The assistant messages for `text` so far: the reasoning (collapsible; open while it streams) and the final
    answer apart. A finished answer with no "Final answer:" marker is shown as it is."""
    split = split_answer(text)
    if finished and not split.done:
        return [{"role": "assistant", "content": text.strip() or "(no answer)"}]
    status = "done" if split.done or finished else "pending"
    reasoning = {"role": "assistant", "content": split.reasoning or "…",
                 "metadata": {"title": REASONING_TITLE, "status": status, "duration": round(seconds, 1)}}  # fmt: skip
    if not split.done:
        return [reasoning]
    return [reasoning, {"role": "assistant", "content": f"Final answer: {split.answer}"}]


def respond(
    backend: Any,
    message: dict[str, Any],
    history: list[dict[str, Any]],
    max_new_tokens: int = 512,
    temperature: float = 0.0,
    limits: UploadLimits = DEFAULT_LIMITS,
) -> Iterator[list[dict[str, Any]]]:
    """One chat turn: yields the assistant messages after each streamed chunk (`backend.stream`); refused files
    and generation errors become notices in the chat, never exceptions."""
    conversation, problems = to_conversation(message, history, limits)
    notices = [notice(p) for p in problems]
    if not conversation or conversation[-1]["role"] != "user":
        yield [*notices, notice("Send a question, with or without images.")]
        return
    if not any(part["type"] == "text" for part in conversation[-1]["content"]):
        yield [*notices, notice("Add a question about the image.")]
        return
    sampling = Sampling(max_new_tokens=int(max_new_tokens), temperature=float(temperature))
    text, began = "", time.perf_counter()
    if notices:
        yield notices
    try:
        for chunk in backend.stream(conversation, sampling):
            text += chunk
            yield [*notices, *answer_messages(text, False, time.perf_counter() - began)]
    except Exception as error:  # a failed generation ends the turn with a message; the app keeps serving
        yield [*notices, *(answer_messages(text, True, 0) if text else []),
               notice(f"Generation failed: {type(error).__name__}: {error}")]  # fmt: skip
        return
    yield [*notices, *answer_messages(text, True, time.perf_counter() - began)]


__all__ = ["REASONING_TITLE", "answer_messages", "notice", "respond", "to_conversation"]
