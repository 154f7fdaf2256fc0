"""The `reader_cls` fixture: each JSON-array test runs through mmreason's reader and through ijson (when installed),
so the comparison in benchmarks/bench_ingest.py is backed by the same tests. Where ijson cannot meet a test the test
calls `ijson_fails(...)`, a strict xfail: if a new ijson passes, the suite says so."""

from __future__ import annotations

import pytest

from mmreason.data.json_stream import JsonRecordReader


@pytest.fixture(params=["mmreason", "ijson"])
def reader_cls(request):
    if request.param == "ijson":
        pytest.importorskip("ijson")
        from .ijson_reader import IjsonRecordReader

        return IjsonRecordReader
    return JsonRecordReader


def ijson_fails(request: pytest.FixtureRequest, reader_cls: type, reason: str) -> None:
    """Mark this run a strict expected failure when it goes through the ijson reader."""
    if reader_cls is not JsonRecordReader:
        request.applymarker(pytest.mark.xfail(strict=True, reason=f"ijson: {reason}"))
