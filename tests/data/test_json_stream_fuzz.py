"""Property tests for the streaming JSON reader against the standard library as the reference (issue #10, item 9):
random JSON values at random chunk sizes read exactly like `json.loads`; random byte corruption never crashes with
anything but `JsonStreamError`, never hangs, and never loses a record silently (a JSON array either reads exactly
as `json.loads` reads the whole file, or raises; a JSONL file yields every line, as a value or a MalformedRecord)."""

import codecs
import json

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mmreason.data.json_stream import JsonRecordReader, JsonStreamError, MalformedRecord

from . import json_readers

reader_cls = json_readers.reader_cls  # the fixture: mmreason's reader, then ijson's
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def values(full: bool):
    # lone surrogates and integers beyond 64 bits are valid JSON; yajl turns the first into "?" and refuses the
    # second ("integer overflow"): both tested in test_json_stream.py, so the ijson run draws neither
    text = st.text(st.characters(exclude_categories=() if full else ("Cs",)), max_size=12)
    text |= st.sampled_from(["", "<image>\n", "π ≈ 3.14 °", "😀", "\\", '"', "]", "[", ",", "}"])
    big = 2**70 if full else 2**63 - 1
    scalars = st.none() | st.booleans() | st.integers(-big, big) | st.floats(allow_nan=False) | text
    scalars = scalars.filter(lambda v: v not in (float("inf"), float("-inf")))
    return st.recursive(
        scalars, lambda c: st.lists(c, max_size=4) | st.dictionaries(text, c, max_size=4), max_leaves=8
    )


def serialize(records, indent, ensure_ascii, bom, jsonl):
    def dump(value):
        try:
            return json.dumps(value, indent=indent, ensure_ascii=ensure_ascii).encode()
        except UnicodeEncodeError:  # a lone surrogate cannot be written raw: escape it
            return json.dumps(value, indent=indent).encode()

    body = b"".join(json.dumps(r).encode() + b"\n" for r in records) if jsonl else dump(records)
    return (codecs.BOM_UTF8 if bom else b"") + body


def reference(data: bytes, jsonl: bool):
    """What the file holds, by the standard library: a list for an array, "error" for a broken array, and for
    JSONL the list of values and ("malformed", line number) per non-blank line."""
    body = data[3:] if data.startswith(codecs.BOM_UTF8) else data
    if not jsonl and body.lstrip(b" \t\r\n").startswith(b"["):
        try:
            return json.loads(body.decode("utf-8"))
        except (ValueError, RecursionError):
            return "error"
    out = []
    for number, line in enumerate(body.split(b"\n"), start=1):
        if line.strip(b" \t\r\n"):
            try:
                out.append(json.loads(line.decode("utf-8")))
            except (ValueError, RecursionError):
                out.append(("malformed", number))
    return out


def read(cls, path, chunk_size):
    """(what the reader gave, in the reference's terms; the JsonStreamError or None)."""
    out = []
    try:
        for value in cls(path, chunk_size=chunk_size):
            out.append(("malformed", value.line) if isinstance(value, MalformedRecord) else value)
    except JsonStreamError as error:
        return out, error
    return out, None


@pytest.mark.timeout(60)
@FUZZ
@given(data=st.data(), indent=st.sampled_from([None, 0, 2]), chunk_size=st.integers(1, 64), flags=st.integers(0, 7))
def test_random_records_read_exactly_like_json_loads(tmp_path, reader_cls, data, indent, chunk_size, flags):
    ensure_ascii, bom, jsonl = bool(flags & 1), bool(flags & 2), bool(flags & 4)
    records = data.draw(st.lists(values(full=reader_cls is JsonRecordReader), max_size=10))
    path = tmp_path / ("data.jsonl" if jsonl else "data.json")
    path.write_bytes(serialize(records, indent, ensure_ascii, bom, jsonl))
    out, error = read(reader_cls, path, chunk_size)
    assert error is None and out == reference(path.read_bytes(), jsonl) == records
    if reader_cls is JsonRecordReader and records:  # resume after a random record
        reader, offsets = JsonRecordReader(path, chunk_size=chunk_size), []
        for _ in reader:
            offsets.append(reader.tell())
        k = data.draw(st.integers(0, len(records) - 1))
        assert list(JsonRecordReader(path, offset=offsets[k], chunk_size=chunk_size)) == records[k + 1 :]


INTERESTING = [
    b"[",
    b"]",
    b"{",
    b"}",
    b",",
    b'"',
    b"\\",
    b":",
    b"\n",
    b" ",
    b"\xff",
    b"\xc3",
    b"\xe2\x82",
    b"0",
    b"\x0c",
]
EDIT = st.tuples(st.sampled_from(["replace", "insert", "delete", "truncate"]), st.integers(0, 1 << 20),
                 st.sampled_from(INTERESTING) | st.binary(min_size=1, max_size=2))  # fmt: skip


def corrupt(data: bytes, edits) -> bytes:
    for kind, where, piece in edits:
        at = where % (len(data) + 1)
        if kind == "replace":
            data = data[:at] + piece + data[at + len(piece) :]
        elif kind == "insert":
            data = data[:at] + piece + data[at:]
        elif kind == "delete":
            data = data[:at] + data[at + len(piece) :]
        else:
            data = data[:at]
    return data


def _has_lone_surrogate(value) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


@pytest.mark.timeout(60)
@FUZZ
@given(data=st.data(), chunk_size=st.integers(1, 64), flags=st.integers(0, 7), edits=st.lists(EDIT, max_size=3))
def test_corrupted_files_read_as_json_loads_or_raise(tmp_path, reader_cls, data, chunk_size, flags, edits):
    ensure_ascii, bom, jsonl = bool(flags & 1), bool(flags & 2), bool(flags & 4)
    records = data.draw(st.lists(values(full=False), max_size=8))
    path = tmp_path / ("data.jsonl" if jsonl else "data.json")
    path.write_bytes(corrupt(serialize(records, 1, ensure_ascii, bom, jsonl), edits))
    expected = reference(path.read_bytes(), jsonl)
    if reader_cls is not JsonRecordReader:
        # the ijson peer is compared where json.loads accepts the file: yajl is lenient where json.loads is not (a
        # form feed is whitespace to it), and an edit can split an escaped surrogate pair (ensure_ascii writes
        # U+10000 as \\ud800\\udc00) into a lone surrogate, which yajl reads as "?" (xfailed in test_json_stream.py);
        # rejecting bad files is checked on mmreason's reader
        assume(expected != "error" and not _has_lone_surrogate(expected))
    out, error = read(reader_cls, path, chunk_size)  # anything but JsonStreamError propagates and fails the test
    if expected == "error":
        assert error is not None and str(path) in str(error)
    else:
        assert error is None and out == expected
