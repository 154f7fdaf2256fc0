"""LLaVA JSON records ⇄ canonical rows.

LLaVA-NeXT (and so MAmmoTH-VL and VisualWebInstruct) stores one record per sample:

    {"id": "83425", "image": "M4-Instruct-Data/HQ-Edit/images/83425.jpg",        # str, or a list (multi-image)
     "conversations": [{"from": "human", "value": "<image>\\nWhat changed?"},
                       {"from": "gpt", "value": "The sky ..."}]}

Video records carry `"video": "path.mp4"` and, by LLaVA-NeXT's convention, write the video's placeholder as
`<image>` (a `<video>` placeholder is read too). Roles `human`/`gpt`/`system` become `user`/`assistant`/`system`;
`role`/`content` keys are accepted as well.

Placeholders become content parts and take the newline that follows them: `"<image>\\nQ"` gives
`[{"type": "image"}, {"type": "text", "text": "Q"}]`, which the chat template renders back as `"<image>\\nQ"`. A
placeholder written without a newline gains one (LLaVA-NeXT's own `preprocess_multimodal` also rewrites
single-image prompts to `<image>\\n…`); records written the usual way round-trip exactly.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .schema import modality

ROLE_FROM_LLAVA = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "system": "system"}
ROLE_TO_LLAVA = {"user": "human", "assistant": "gpt", "system": "system"}
_PLACEHOLDER = re.compile(r"(<image>|<video>)\n?")


class RecordError(ValueError):
    """A record that cannot be converted. `reason` is a short machine-readable tag, `record_id` names it."""

    def __init__(self, reason: str, message: str, record_id: str | None = None):
        super().__init__(f"record {record_id!r}: {message}" if record_id is not None else message)
        self.reason = reason
        self.record_id = record_id


def split_placeholders(text: str, video: bool = False) -> list[dict[str, Any]]:
    """Turn `"<image>\\nQ"` into `[{"type": "image"}, {"type": "text", "text": "Q"}]` (`video=True`: the
    `<image>` placeholders are video parts, LLaVA-NeXT's convention for video records)."""
    if "<" not in text:
        return [{"type": "text", "text": text}] if text else []
    parts: list[dict[str, Any]] = []
    for index, piece in enumerate(_PLACEHOLDER.split(text)):
        if index % 2:
            parts.append({"type": "video" if video or piece == "<video>" else "image"})
        elif piece:
            parts.append({"type": "text", "text": piece})
    return parts


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value) if isinstance(value, list | tuple) else [value]


def llava_to_canonical(
    record: dict[str, Any], default_id: str | None = None, *, default_source: str = ""
) -> dict[str, Any]:
    """Convert one LLaVA record to a canonical row whose `images`/`videos` are the record's relative paths.

    Metadata: `id` from the record (else `default_id`); `source` from a `source`/`data_source` field, else the
    first folder of the first media path (`M4-Instruct-Data/...` → `M4-Instruct-Data`), else `default_source`;
    `category` from a `category` field, else the modality; `quality_group` from the record, else "".

    Raises:
        RecordError: not a JSON object, no `conversations`, an unknown or non-string role (`bad_role`), a
            non-string turn, non-string media paths or metadata, or both `image` and `video` (`malformed`); text
            that is not valid Unicode, e.g. a lone surrogate `"\\ud83d"` left by a cut emoji, which JSON decodes
            but UTF-8, pyarrow and every tokenizer reject (`invalid_unicode`).
    """
    if not isinstance(record, dict):
        raise RecordError("malformed", f"expected a JSON object, got {type(record).__name__}", default_id)
    record_id = _scalar(record, "id", default_id) or default_id
    turns = record.get("conversations", record.get("messages"))
    if not isinstance(turns, list):
        raise RecordError("malformed", "no `conversations` list", record_id)
    images, videos = _as_list(record.get("image")), _as_list(record.get("video"))
    if not all(isinstance(path, str) for path in images + videos):
        raise RecordError("malformed", "`image`/`video` must be a path or a list of paths", record_id)
    if images and videos:
        raise RecordError("malformed", "a record has either `image` or `video`, not both", record_id)
    messages = []
    for turn in turns:
        if not isinstance(turn, dict):
            raise RecordError("malformed", "a turn is not a JSON object", record_id)
        name = turn.get("from", turn.get("role"))
        role = ROLE_FROM_LLAVA.get(name) if isinstance(name, str) else None
        text = turn.get("value", turn.get("content"))
        if role is None:
            raise RecordError("bad_role", f"unknown role {name!r}", record_id)
        if not isinstance(text, str):
            raise RecordError("malformed", f"a {role} turn has no string `value`", record_id)
        messages.append({"role": role, "content": split_placeholders(text, video=bool(videos))})
    media = images or videos
    source = _scalar(record, "source", record_id) or _scalar(record, "data_source", record_id)
    if not source and media and "/" in media[0]:
        source = media[0].split("/", 1)[0]
    row = {
        "id": record_id or "",
        "source": source or default_source,
        "category": _scalar(record, "category", record_id) or modality(len(images), len(videos)),
        "quality_group": _scalar(record, "quality_group", record_id) or "",
        "messages": messages,
        "images": images,
        "videos": videos,
    }
    _check_unicode(row)
    return row


def _scalar(record: dict[str, Any], key: str, record_id: str | None) -> str | None:
    """A metadata field as a string (None if absent): strings and numbers are taken, a list/dict/bool is a
    malformed record."""
    value = record.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise RecordError("malformed", f"`{key}` must be a string or a number, got {type(value).__name__}", record_id)
    return str(value)


def _check_unicode(row: dict[str, Any]) -> None:
    """Raise `invalid_unicode` if a string of the row cannot be written as UTF-8 (lone surrogates)."""
    texts = [row["id"], row["source"], row["category"], row["quality_group"], *row["images"], *row["videos"]]
    texts += [part["text"] for message in row["messages"] for part in message["content"] if part["type"] == "text"]
    for text in texts:
        if not text.isascii():
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as error:
                bad = repr(text[error.start : error.end])
                raise RecordError(
                    "invalid_unicode", f"lone surrogate {bad} (a cut emoji?): not valid Unicode", row["id"] or None
                ) from None


def _media_path(item: Any) -> str:
    if isinstance(item, str):
        return item
    if isinstance(item, dict) and item.get("path"):
        return item["path"]
    path = getattr(item, "filename", None)
    if path:
        return path
    raise ValueError(f"cannot write a LLaVA record for a media item without a path: {type(item).__name__}")


def canonical_to_llava(row: dict[str, Any], *, keep_metadata: bool = False) -> dict[str, Any]:
    """Convert a canonical row back to a LLaVA record (`image` is a string for one image, a list for several;
    video placeholders are written `<image>` as LLaVA-NeXT expects, `<video>` in a row without videos). Media
    items must carry a path (strings, `datasets` dicts or PIL images opened from files)."""
    images = [_media_path(item) for item in row.get("images") or []]
    videos = [_media_path(item) for item in row.get("videos") or []]
    record: dict[str, Any] = {"id": row["id"]}
    if len(images) == 1:
        record["image"] = images[0]
    elif images:
        record["image"] = images
    if videos:
        record["video"] = videos[0] if len(videos) == 1 else videos
    placeholders = {"text": "", "image": "<image>\n", "video": "<image>\n" if videos else "<video>\n"}
    conversations = []
    for message in row["messages"]:
        content = message["content"]
        if not isinstance(content, str):
            content = "".join(
                (part.get("text") or "") if part["type"] == "text" else placeholders[part["type"]]
                for part in content
                if part["type"] in placeholders
            )
        conversations.append({"from": ROLE_TO_LLAVA[message["role"]], "value": content})
    record["conversations"] = conversations
    if keep_metadata:
        record.update({key: row.get(key, "") for key in ("source", "category", "quality_group")})
    return record


def write_llava_json(
    rows: Iterable[dict[str, Any]], path: str | os.PathLike, media_folder: str | os.PathLike | None = None
) -> int:
    """Stream canonical rows into a LLaVA JSON array (`.json`) or JSONL (`.jsonl`) file; returns the row count.

    With `media_folder`, embedded media bytes are written to `media_folder/<path>` so LLaVA-NeXT's
    `--image_folder` finds them. The file is written to a temporary name and renamed when complete; on any error
    the temporary file is removed and the error raised (a row with a lone surrogate raises `RecordError`
    `invalid_unicode` naming it).
    """
    path, as_array = Path(path), not str(path).endswith(".jsonl")
    tmp = path.with_name(path.name + ".tmp")
    count = 0
    try:
        with open(tmp, "wb") as handle:
            handle.write(b"[\n" if as_array else b"")
            for row in rows:
                if media_folder is not None:
                    _write_media(row, Path(media_folder))
                record = _encode(json.dumps(canonical_to_llava(row), ensure_ascii=False), row)
                handle.write((b"" if count == 0 else b",\n") + record if as_array else record + b"\n")
                count += 1
            handle.write(b"\n]\n" if as_array else b"")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return count


def _encode(text: str, row: dict[str, Any]) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as error:
        bad = repr(text[error.start : error.end])
        raise RecordError("invalid_unicode", f"lone surrogate {bad}: not valid Unicode", row.get("id")) from None


def _write_media(row: dict[str, Any], folder: Path) -> None:
    for item in (*(row.get("images") or []), *(row.get("videos") or [])):
        if isinstance(item, dict) and item.get("bytes") and item.get("path"):
            target = folder / item["path"]
            if not target.resolve().is_relative_to(folder.resolve()):
                raise ValueError(f"media path {item['path']!r} escapes {folder}")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(item["bytes"])


__all__ = ["RecordError", "canonical_to_llava", "llava_to_canonical", "split_placeholders", "write_llava_json"]
