"""Constant-memory reading of multi-GB JSON arrays and JSONL files, resumable from a byte offset.

`mammoth_si_10M.json` is one 21.8 GB JSON array; `json.load` needs ~8x the file in RAM and LLaVA-NeXT does it in
every worker. [`JsonRecordReader`] decodes one record at a time with the standard library's C decoder
(`json.JSONDecoder.raw_decode`) over a sliding UTF-8 window, so memory stays at a few chunks whatever the file size,
and [`JsonRecordReader.tell`] gives a byte offset to resume from after any record.

* JSON array: a syntax error raises [`JsonStreamError`] with its byte offset (an array cannot be resynchronised
  safely); a record larger than `max_record_bytes` raises too, instead of buffering the rest of the file.
* JSONL: a malformed line is yielded as a [`MalformedRecord`] (line number, byte offset, error) and reading goes on,
  so a caller can report it and lose nothing else.
"""

from __future__ import annotations

import codecs
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

_WHITESPACE = re.compile(r"[ \t\n\r]*")


class JsonStreamError(ValueError):
    """The JSON array is malformed (or a record is too large); names the file and the byte offset."""


@dataclass
class MalformedRecord:
    """A JSONL line that is not valid JSON."""

    line: int
    offset: int
    error: str
    text: str


class JsonRecordReader:
    """Iterate the records of a JSON array or JSONL file without loading it.

    Args:
        path: the `.json` (array) or `.jsonl` file; the format is detected from the first non-blank character.
        offset: a value of [`tell`] from an earlier run: reading resumes after that record.
        chunk_size: bytes read at a time.
        max_record_bytes: a single array record larger than this raises instead of growing the buffer.
    """

    def __init__(
        self, path: str | os.PathLike, offset: int = 0, chunk_size: int = 4 << 20, max_record_bytes: int = 256 << 20
    ):
        self.path = os.fspath(path)
        self.size = os.path.getsize(self.path)
        self.chunk_size = chunk_size
        self.max_record_bytes = max_record_bytes
        self.is_array = self._detect_array()
        self._start = offset
        self._buf = ""
        self._pos = 0
        self._buf_offset = offset  # byte offset of self._buf[0]
        self._line_offset = offset  # JSONL: byte offset after the last line read

    def _detect_array(self) -> bool:
        with open(self.path, "rb") as handle:
            head = handle.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
        return head.startswith(b"[")

    @property
    def bytes_read(self) -> int:
        """Bytes of the file consumed so far (for progress bars)."""
        return self._line_offset if not self.is_array else self._buf_offset + len(self._buf[: self._pos].encode())

    def tell(self) -> int:
        """Byte offset just after the last record yielded; pass it as `offset` to resume."""
        return self.bytes_read

    def __iter__(self) -> Iterator[Any]:
        return self._iter_array() if self.is_array else self._iter_lines()

    # JSONL -------------------------------------------------------------------------------------------------------
    def _iter_lines(self) -> Iterator[Any]:
        loads = json.loads
        with open(self.path, "rb") as handle:
            handle.seek(self._start)
            offset = self._start
            for number, line in enumerate(handle, start=1):
                self._line_offset = offset + len(line)
                if line.strip():
                    try:
                        yield loads(line)
                    except (ValueError, UnicodeDecodeError) as error:
                        text = line[:200].decode("utf-8", "replace")
                        yield MalformedRecord(line=number, offset=offset, error=str(error), text=text)
                offset = self._line_offset

    # JSON array --------------------------------------------------------------------------------------------------
    def _error(self, message: str) -> JsonStreamError:
        return JsonStreamError(f"{self.path}: {message} at byte {self.tell()}")

    def _iter_array(self) -> Iterator[Any]:
        decode = json.JSONDecoder().raw_decode
        skip = _WHITESPACE.match
        with open(self.path, "rb") as handle:
            handle.seek(self._start)
            decoder = codecs.getincrementaldecoder("utf-8-sig" if self._start == 0 else "utf-8")()
            eof = False

            def refill() -> bool:
                nonlocal eof
                if eof:
                    return False
                chunk = handle.read(self.chunk_size)
                eof = not chunk
                dropped = self._buf[: self._pos]
                self._buf_offset += len(dropped.encode())
                self._buf = self._buf[self._pos :] + decoder.decode(chunk, final=eof)
                self._pos = 0
                return True

            expect_comma = self._start > 0
            if not expect_comma:
                self._pos = skip(self._buf).end()
                while self._pos >= len(self._buf) and refill():
                    self._pos = skip(self._buf, self._pos).end()
                if not self._buf.startswith("[", self._pos):
                    raise self._error("not a JSON array")
                self._pos += 1
            while True:
                self._pos = skip(self._buf, self._pos).end()
                if self._pos >= len(self._buf):
                    if not refill():
                        raise self._error("unterminated JSON array")
                    continue
                char = self._buf[self._pos]
                if char == "]":
                    return
                if expect_comma:
                    if char != ",":
                        raise self._error(f"expected ',' or ']' but found {char!r}")
                    self._pos += 1
                    expect_comma = False
                    continue
                try:
                    value, end = decode(self._buf, self._pos)
                except json.JSONDecodeError as error:
                    if len(self._buf) - self._pos > self.max_record_bytes:
                        raise self._error(f"record larger than {self.max_record_bytes} bytes or malformed") from error
                    if refill():
                        continue
                    raise self._error(f"malformed record ({error.msg})") from error
                if end == len(self._buf) and refill():  # a number may continue in the next chunk
                    continue
                self._pos = end
                expect_comma = True
                yield value


def iter_json_records(path: str | os.PathLike, offset: int = 0) -> Iterator[Any]:
    """Shortcut for `iter(JsonRecordReader(path, offset))`."""
    return iter(JsonRecordReader(path, offset))


__all__ = ["JsonRecordReader", "JsonStreamError", "MalformedRecord", "iter_json_records"]
