"""Files already in mmreason's row format (see `mmreason.data.schema`) as a one-subset corpus.

The bundled sample (`mmreason/assets/sample/rows.jsonl`), a `datasets` export to JSON Lines and `mmreason data
export`-style files all hold canonical rows: `messages` with content parts, `images`/`videos` as paths relative to
the file's folder (or `--media_dirs`). `mmreason data prepare rows --source rows.jsonl --out my_rows` embeds the
media and writes Parquet shards + a card, with the same checks and drop log as the other corpora;
`mmreason data prepare llava` detects such a file ([`looks_like_rows`]) and prepares it this way too.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..llava import RecordError, _check_unicode, _scalar, split_placeholders
from ..schema import METADATA_COLUMNS, ROLES, modality
from .base import CorpusBuilder, CorpusSpec, builder_configs
from .llava_json import llava_json_spec

PART_TYPES = ("text", "image", "video")


def canonical_to_row(record: Any, default_id: str | None = None) -> dict[str, Any]:
    """Check one canonical row and return it with `videos` filled in and metadata as strings.

    A string `content` is read as LLaVA-style text with inline `<image>` placeholders.

    Raises:
        RecordError: not an object, no `messages` list, a message that is not `{"role", "content"}` with a
            system/user/assistant role (`bad_role`), a part of unknown type or a text part without a string `text`,
            media that are not lists of paths (`malformed`), text that is not valid Unicode (`invalid_unicode`).
    """
    if not isinstance(record, dict):
        raise RecordError("malformed", f"expected a JSON object, got {type(record).__name__}", default_id)
    record_id = _scalar(record, "id", default_id) or default_id
    messages = record.get("messages")
    if not isinstance(messages, list):
        raise RecordError("malformed", "no `messages` list", record_id)
    media = {column: record.get(column) or [] for column in ("images", "videos")}
    for column, paths in media.items():
        if not isinstance(paths, list) or not all(isinstance(path, str) for path in paths):
            raise RecordError("malformed", f"`{column}` must be a list of paths", record_id)
    row = {name: _scalar(record, name, record_id) or "" for name in METADATA_COLUMNS}
    row["id"] = row["id"] or record_id or ""
    row["category"] = row["category"] or modality(len(media["images"]), len(media["videos"]))
    row["messages"] = [_message(message, record_id) for message in messages]
    row.update(media)
    _check_unicode(row)
    return row


def _message(message: Any, record_id: str | None) -> dict[str, Any]:
    if not isinstance(message, dict) or "content" not in message:
        raise RecordError("malformed", "a message is not a {role, content} object", record_id)
    if message.get("role") not in ROLES:
        raise RecordError("bad_role", f"unknown role {message.get('role')!r}", record_id)
    content = message["content"]
    if isinstance(content, str):
        content = split_placeholders(content)
    if not isinstance(content, list):
        raise RecordError("malformed", f"a {message['role']} message's content is not a list of parts", record_id)
    parts = []
    for part in content:
        if not isinstance(part, dict) or part.get("type") not in PART_TYPES:
            raise RecordError("malformed", f"a content part is not one of {PART_TYPES}: {part!r:.80}", record_id)
        if part["type"] == "text" and not isinstance(part.get("text"), str):
            raise RecordError("malformed", "a text part has no string `text`", record_id)
        parts.append({"type": "text", "text": part["text"]} if part["type"] == "text" else {"type": part["type"]})
    return {"role": message["role"], "content": parts}


def rows_spec(source: str | os.PathLike, name: str = "default") -> tuple[CorpusSpec, Path]:
    """A spec with one subset for a canonical-rows JSONL/JSON/Parquet file (or every `*.jsonl`, else `*.json`, else
    `*.parquet`, in a folder); returns it with the folder to use as `source`."""
    spec, folder = llava_json_spec(source, name)
    files = ("*.jsonl", "*.json", "*.parquet") if Path(source).is_dir() else spec.subsets[name].files
    subset = replace(
        spec.subsets[name], files=files, convert=canonical_to_row, description=f"prepared from {', '.join(files)}."
    )
    return replace(spec, name="rows", source_note="mmreason's row format", subsets={name: subset}), folder


def looks_like_rows(source: str | os.PathLike) -> bool:
    """Whether a `.jsonl` file's first record is a canonical row (`messages` whose content is a list of parts)
    rather than a LLaVA record (`conversations` / string content)."""
    path = Path(source)
    if not (path.is_file() and path.suffix == ".jsonl"):
        return False
    with open(path, encoding="utf-8", errors="replace") as handle:
        line = next((line for line in handle if line.strip()), "")
    try:
        record = json.loads(line)
    except ValueError:
        return False
    messages = record.get("messages") if isinstance(record, dict) else None
    return bool(messages) and isinstance(messages[0], dict) and isinstance(messages[0].get("content"), list)


class CanonicalRows(CorpusBuilder):
    """`datasets` builder over canonical-rows files: `CanonicalRows(data_dir=folder_with_jsonl)`."""

    SPEC = rows_spec(".")[0]
    BUILDER_CONFIGS = builder_configs(SPEC)


__all__ = ["CanonicalRows", "canonical_to_row", "looks_like_rows", "rows_spec"]
