"""[`JsonRecordReader`]'s interface with JSON arrays parsed by ijson (yajl2_c): the library the hand-written reader
was measured against (benchmarks/bench_ingest.py). Only for the comparison tests and the benchmark; JSONL is read
the same way by both (one `json.loads` per line).

ijson has no byte positions (ICRAR/ijson#47), so `tell()` is where the file handle is (a whole buffer ahead) and a
resume `offset` cannot be honoured; its errors name the file position of the buffer, not of the error.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import ijson

from mmreason.data.json_stream import JsonRecordReader, JsonStreamError


class IjsonRecordReader(JsonRecordReader):
    """Arrays via `ijson.items(file, "item", use_float=True)`; everything else as [`JsonRecordReader`]."""

    _handle_offset = 0

    @property
    def bytes_read(self) -> int:
        return self._line_offset if not self.is_array else self._handle_offset

    def _iter_array(self) -> Iterator[Any]:
        with open(self.path, "rb") as handle:
            handle.seek(self._start)
            try:
                for value in ijson.items(handle, "item", use_float=True, buf_size=self.chunk_size):
                    self._handle_offset = handle.tell()
                    yield value
            except (ijson.JSONError, UnicodeDecodeError) as error:
                message = str(error).splitlines()[0] if str(error) else type(error).__name__
                raise JsonStreamError(self.path, message, handle.tell()) from error
