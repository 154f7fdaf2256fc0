"""Streaming raw corpus files into canonical rows with embedded media, resumable, reporting what it drops.

A [`CorpusReader`] walks a list of record files (LLaVA JSON arrays, JSONL, Parquet) in order, converts each record
with a corpus-specific function (LLaVA → canonical by default), reads the media through a [`MediaStore`] and
yields [`Item`]s: a row ready for `datasets`, or a [`Drop`] saying which record was left out and why (malformed JSON,
a bad record, a missing or unreadable image, a placeholder/image count mismatch). Nothing is fixed silently.

[`CorpusReader.position`] is a small JSON-able dict (file, byte offset or row, records read) to resume from.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from ..model.image_io import DEFAULT_MAX_IMAGE_PIXELS, ImageCheck, ImageError, inspect_image
from .json_stream import JsonRecordReader, MalformedRecord
from .llava import RecordError, llava_to_canonical
from .media import MediaNotFoundError, MediaStore
from .reasons import name_the_file
from .schema import count_parts

Converter = Callable[[dict[str, Any], str], dict[str, Any]]


@dataclass
class Drop:
    """A record left out: `id`, a short `reason` tag, a human `detail`, where it was and the raw record."""

    id: str
    reason: str
    detail: str
    file: str
    record: Any = None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "reason": self.reason, "detail": self.detail, "file": self.file, "record": self.record}


@dataclass
class Item:
    """One record's outcome: exactly one of `row` (canonical, media as `{"bytes", "path"}`) and `drop`."""

    row: dict[str, Any] | None = None
    drop: Drop | None = None


class ParquetRecordReader:
    """Rows of a Parquet file as dicts, batch by batch; `tell()` is the row number to resume from."""

    def __init__(self, path: str | os.PathLike, offset: int = 0, batch_size: int = 1024):
        self.path, self.offset, self.batch_size = os.fspath(path), offset, batch_size
        self.size = os.path.getsize(self.path)
        self._file = pq.ParquetFile(self.path)
        self._rows = self._file.metadata.num_rows
        self._next = offset

    @property
    def bytes_read(self) -> int:
        return int(self.size * self._next / max(self._rows, 1))

    def tell(self) -> int:
        return self._next

    def __iter__(self) -> Iterator[dict[str, Any]]:
        seen = 0
        for batch in self._file.iter_batches(batch_size=self.batch_size):
            if seen + batch.num_rows <= self.offset:
                seen += batch.num_rows
                continue
            for row in batch.slice(max(self.offset - seen, 0)).to_pylist():
                self._next += 1
                yield row
            seen += batch.num_rows


def open_records(path: str | os.PathLike, offset: int = 0) -> JsonRecordReader | ParquetRecordReader:
    """A resumable reader for a `.json` array, a `.jsonl` file or a `.parquet` file."""
    return ParquetRecordReader(path, offset) if str(path).endswith(".parquet") else JsonRecordReader(path, offset)


def image_problem(
    data: bytes, check: ImageCheck = "full", max_pixels: int | None = DEFAULT_MAX_IMAGE_PIXELS
) -> str | None:
    """`None` if the processor can read the image, else why not (`"<ImageError subclass>: <detail>"`).

    The shared inspector ([`mmreason.model.image_io.inspect_image`]): pixel cap and mode from the header, then
    (`check="full"`, the default) the whole body is decoded, so a truncated file with a valid header is caught here
    rather than in the collator or in `datasets` decoding.
    """
    try:
        inspect_image(data, max_pixels, check)
    except ImageError as error:
        return f"{type(error).__name__}: {error}"
    return None


@dataclass
class CorpusReader:
    """Canonical rows from raw record files.

    Args:
        files: record files, read in order.
        media: where the rows' relative media paths are found.
        convert: `(record, default_id) -> canonical row with relative media paths`; raise `RecordError` to drop.
        check_images: check each image with `image_problem` (decoded in full) and drop rows the processor would refuse.
        position: a [`position`] from an earlier run, to resume after its last record.
        media_columns: `(messages column, media column, part type)` triples: whose placeholders count which media
            (preference and PUMA pair rows have other columns than `messages`/`images`/`videos`).
    """

    files: list[Path]
    media: MediaStore
    convert: Converter = llava_to_canonical
    check_images: bool = True
    position: dict[str, Any] | None = None
    media_columns: tuple[tuple[str, str, str], ...] = (
        ("messages", "images", "image"),
        ("messages", "videos", "video"),
    )

    def __post_init__(self) -> None:
        start = self.position or {}
        self._file_index = start.get("file", 0)
        self._offset = start.get("offset", 0)
        self.records_read = start.get("records", 0)
        self._file_records = start.get("file_records", 0)
        self._reader: JsonRecordReader | ParquetRecordReader | None = None
        self.total_bytes = sum(os.path.getsize(path) for path in self.files)

    def position_now(self) -> dict[str, Any]:
        """Where to resume: after the last record yielded."""
        offset = self._reader.tell() if self._reader is not None else self._offset
        return {
            "file": self._file_index,
            "offset": offset,
            "records": self.records_read,
            "file_records": self._file_records,
        }

    @property
    def bytes_read(self) -> int:
        """Bytes of all files consumed so far (cheap enough to call every few hundred records)."""
        done = sum(os.path.getsize(path) for path in self.files[: self._file_index])
        return done + (self._reader.bytes_read if self._reader is not None else 0)

    def __iter__(self) -> Iterator[Item]:
        while self._file_index < len(self.files):
            path = self.files[self._file_index]
            self._reader = open_records(path, self._offset)
            stem = Path(path).name.split(".")[0]
            for record in self._reader:
                number = self._file_records
                self.records_read += 1
                self._file_records += 1
                yield self._item(record, path, f"{stem}-{number}")
            self._file_index += 1
            self._offset = 0
            self._reader = None
            self._file_records = 0

    def _item(self, record: Any, path: Path, default_id: str) -> Item:
        file = Path(path).name
        if isinstance(record, MalformedRecord):
            detail = f"line {record.line}: {record.error}"
            return Item(drop=Drop(default_id, "malformed_json", detail, file, record.text))
        try:
            row = self.convert(record, default_id)
        except RecordError as error:
            return Item(drop=Drop(error.record_id or default_id, error.reason, str(error), file, record))
        problem = self._attach_media(row)
        if problem is not None:
            return Item(drop=Drop(row["id"], problem[0], problem[1], file, record))
        return Item(row=row)

    def _attach_media(self, row: dict[str, Any]) -> tuple[str, str] | None:
        for messages, column, kind in self.media_columns:
            expected = count_parts(row[messages], kind)
            if expected != len(row[column]):
                return f"{kind}_count_mismatch", f"{expected} {kind} placeholder(s) but {len(row[column])} {column}"
            loaded = []
            for item in row[column]:
                try:
                    media = self._load(item)
                except MediaNotFoundError as error:
                    return f"missing_{kind}", str(error)
                except OSError as error:
                    return f"corrupt_{kind}", f"{item}: {error}"
                if kind == "image" and self.check_images and (problem := image_problem(media["bytes"])) is not None:
                    return "corrupt_image", f"{media['path']}: {name_the_file(problem, media['path'])}"
                loaded.append(media)
            row[column] = loaded
        return None

    def _load(self, item: str | dict[str, Any]) -> dict[str, Any]:
        """`{"bytes", "path"}` for a relative path, or for an already embedded item (Parquet sources)."""
        if isinstance(item, dict):
            if item.get("bytes"):
                return {"bytes": item["bytes"], "path": item.get("path") or ""}
            item = item.get("path") or ""
        return {"bytes": self.media.read(item), "path": item}


__all__ = ["CorpusReader", "Drop", "Item", "ParquetRecordReader", "image_problem", "open_records"]
