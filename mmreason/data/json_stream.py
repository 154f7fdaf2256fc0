"""Constant-memory reading of multi-GB JSON arrays and JSONL files, resumable from a byte offset.

`mammoth_si_10M.json` is one 21.8 GB JSON array; `json.load` needs ~8x the file in RAM and LLaVA-NeXT does it in
every worker. [`JsonRecordReader`] decodes one record at a time with the standard library's C decoder
(`json.JSONDecoder.raw_decode`) over a sliding UTF-8 window, so memory stays at a few chunks whatever the file size,
and [`JsonRecordReader.tell`] gives a byte offset to resume from after any record.

Nothing is lost silently; every offset below is an absolute byte offset in the file:

* JSON array: a syntax error (including a trailing comma `[1, 2,]` and anything but whitespace after the closing
  `]`, e.g. two arrays concatenated with `cat`), invalid UTF-8, a file cut inside a record or a multibyte
  character, a record nested too deeply for the decoder, and a record larger than `max_record_bytes` raise
  [`JsonStreamError`] naming the file and the byte offset, after every record before it has been yielded (an array
  cannot be resynchronised safely).
* JSONL (`.jsonl`/`.ndjson`, or any file whose first character is not `[`): a line that is not valid JSON (bad
  syntax, extra data after the value, invalid UTF-8, too deep nesting) is yielded as a [`MalformedRecord`] (line
  number, byte offset, error) and reading goes on, so a caller can report it and lose nothing else.
"""

from __future__ import annotations

import codecs
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_BOM = codecs.BOM_UTF8
_JSONL_SUFFIXES = (".jsonl", ".ndjson")
_LOOKAHEAD = 16  # a decode error this close to the end of the window may just need more data ("-Infinity", "\u12")


class JsonStreamError(ValueError):
    """The JSON array is malformed (or a record is too large); names the file and the byte offset."""

    def __init__(self, path: str, message: str, offset: int):
        super().__init__(f"{path}: {message} at byte {offset}")
        self.path, self.offset = path, offset


@dataclass
class MalformedRecord:
    """A JSONL line that is not valid JSON (`offset`: byte offset of the line's start)."""

    line: int
    offset: int
    error: str
    text: str


class JsonRecordReader:
    """Iterate the records of a JSON array or JSONL file without loading it.

    Args:
        path: a `.jsonl`/`.ndjson` file is read as JSONL; any other file is a JSON array if its first non-blank
            character is `[`, else JSONL. A UTF-8 byte-order mark is skipped.
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
        self.is_array, bom = self._detect()
        self._start = offset or bom  # offsets are absolute: a BOM counts, it is skipped rather than decoded
        self._resumed = offset > 0
        self._buf = ""
        self._pos = 0
        self._buf_offset = self._start  # byte offset of self._buf[0]
        self._buf_bytes = 0  # UTF-8 length of self._buf
        self._line_offset = self._start  # JSONL: byte offset after the last line read

    def _detect(self) -> tuple[bool, int]:
        """(is a JSON array, BOM length)."""
        with open(self.path, "rb") as handle:
            bom = len(_BOM) if handle.read(len(_BOM)) == _BOM else 0
            handle.seek(bom)
            while chunk := handle.read(1 << 16):
                head = chunk.lstrip(b" \t\r\n")
                if head:
                    return head.startswith(b"[") and not self.path.endswith(_JSONL_SUFFIXES), bom
        return False, bom

    @property
    def bytes_read(self) -> int:
        """Bytes of the file consumed so far (for progress bars)."""
        return self._line_offset if not self.is_array else self._byte_offset(self._pos)

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
                if line.strip(b" \t\r\n"):  # JSON whitespace only: a line of "\x0c" is reported
                    try:
                        yield loads(line.decode("utf-8"))
                    except UnicodeDecodeError as error:
                        message = f"invalid UTF-8 ({error.reason}) at byte {offset + error.start}"
                        yield self._malformed(number, offset, message, line)
                    except ValueError as error:
                        yield self._malformed(number, offset, str(error), line)
                    except RecursionError:
                        yield self._malformed(number, offset, "nested too deeply for the JSON decoder", line)
                offset = self._line_offset

    @staticmethod
    def _malformed(number: int, offset: int, error: str, line: bytes) -> MalformedRecord:
        return MalformedRecord(line=number, offset=offset, error=error, text=line[:200].decode("utf-8", "replace"))

    # JSON array --------------------------------------------------------------------------------------------------
    def _byte_offset(self, index: int) -> int:
        """Absolute byte offset of `self._buf[index]` (encodes the shorter side of the window)."""
        if index <= len(self._buf) // 2:
            return self._buf_offset + len(self._buf[:index].encode())
        return self._buf_offset + self._buf_bytes - len(self._buf[index:].encode())

    def _error(self, message: str, index: int | None = None) -> JsonStreamError:
        return JsonStreamError(self.path, message, self._byte_offset(self._pos if index is None else index))

    def _iter_array(self) -> Iterator[Any]:
        scan = json.JSONDecoder().scan_once  # the C scanner behind `raw_decode`, without its Python wrapper
        skip = _WHITESPACE.match
        ahead = max(self.chunk_size // 2, 1)
        with open(self.path, "rb") as handle:
            handle.seek(self._start)
            pending = b""  # undecoded bytes: the start of a multibyte character cut by the chunk boundary
            eof = False
            bad_utf8: JsonStreamError | None = None  # raised once the text before it has been consumed

            def refill() -> bool:
                """Append the next chunk's text to the window (dropping the consumed part); False at the end."""
                nonlocal pending, eof, bad_utf8
                if bad_utf8 is not None:
                    raise bad_utf8
                if eof:
                    return False
                chunk = handle.read(self.chunk_size)
                eof = not chunk
                data = pending + chunk
                data_start = self._buf_offset + self._buf_bytes  # absolute offset of data[0]
                try:
                    text, used = codecs.utf_8_decode(data, "strict", eof)
                except UnicodeDecodeError as error:
                    text, used = data[: error.start].decode("utf-8"), error.start
                    reason = "file ends inside a UTF-8 character" if eof and error.end == len(data) else error.reason
                    bad_utf8 = JsonStreamError(self.path, f"invalid UTF-8 ({reason})", data_start + error.start)
                pending = data[used:]
                tail = self._buf[self._pos :]
                tail_bytes = len(tail.encode())
                self._buf_offset += self._buf_bytes - tail_bytes
                self._buf, self._buf_bytes, self._pos = tail + text, tail_bytes + used, 0
                return True

            if not self._resumed:
                self._pos = skip(self._buf).end()
                while self._pos >= len(self._buf) and refill():
                    self._pos = skip(self._buf, self._pos).end()
                if not self._buf.startswith("[", self._pos):
                    raise self._error("not a JSON array")
                self._pos += 1
            state = "comma" if self._resumed else "first"  # what may come next: first value, ',' or value
            while True:
                self._pos = skip(self._buf, self._pos).end()
                if self._pos >= len(self._buf):
                    if not refill():
                        raise self._error("unterminated JSON array (file cut?)")
                    continue
                char = self._buf[self._pos]
                if char == "]":
                    if state == "value":
                        raise self._error("trailing comma before ']'")
                    records_end = self._byte_offset(self._pos)
                    self._pos += 1
                    self._check_end(refill)
                    self._buf, self._buf_bytes, self._buf_offset, self._pos = "", 0, records_end, 0
                    return
                if state == "comma":
                    if char != ",":
                        raise self._error(f"expected ',' or ']' but found {char!r}")
                    self._pos += 1
                    state = "value"
                    continue
                if len(self._buf) - self._pos < ahead and not eof and bad_utf8 is None and refill():
                    continue  # keep a record's worth ahead: a record cut by the window end is decoded twice
                try:
                    value, end = scan(self._buf, self._pos)
                except StopIteration as stop:  # what `raw_decode` turns into "Expecting value"
                    if stop.value + _LOOKAHEAD >= len(self._buf) and refill():
                        continue
                    raise self._error("malformed record (Expecting value)", stop.value) from None
                except json.JSONDecodeError as error:
                    if self._needs_more(error) and refill():
                        continue
                    raise self._error(f"malformed record ({error.msg})", error.pos) from error
                except RecursionError as error:
                    raise self._error("record nested too deeply for the JSON decoder") from error
                if end + _LOOKAHEAD >= len(self._buf) and _is_number(value) and refill():
                    continue  # a number may continue in the next chunk ("0" then ".5")
                self._pos = end
                state = "comma"
                yield value

    def _needs_more(self, error: json.JSONDecodeError) -> bool:
        """Whether a decode error may be the window ending inside the record (else it is a real syntax error)."""
        if len(self._buf) - self._pos > self.max_record_bytes:
            raise self._error(f"record larger than {self.max_record_bytes} bytes or malformed") from error
        return error.msg.startswith("Unterminated string") or error.pos + _LOOKAHEAD >= len(self._buf)

    def _check_end(self, refill: Callable[[], bool]) -> None:
        """After the closing `]` only whitespace may follow."""
        while True:
            self._pos = _WHITESPACE.match(self._buf, self._pos).end()
            if self._pos < len(self._buf):
                raise self._error("data after the end of the JSON array (two files concatenated?)")
            if not refill():
                return


def _is_number(value: Any) -> bool:
    return type(value) is int or type(value) is float


def iter_json_records(path: str | os.PathLike, offset: int = 0) -> Iterator[Any]:
    """Shortcut for `iter(JsonRecordReader(path, offset))`."""
    return iter(JsonRecordReader(path, offset))


__all__ = ["JsonRecordReader", "JsonStreamError", "MalformedRecord", "iter_json_records"]
