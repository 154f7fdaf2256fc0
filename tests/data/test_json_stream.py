import codecs
import json
import re

import pytest

from mmreason.data.json_stream import JsonRecordReader, JsonStreamError, MalformedRecord

from . import json_readers
from .json_readers import ijson_fails

reader_cls = json_readers.reader_cls  # the fixture: mmreason's reader, then ijson's

RECORDS = [{"id": i, "text": "π ≈ 3.14159 ° " * (i % 9), "values": [i, 1.5e-3, None, True]} for i in range(700)]
RECORDS += [123456789, "a string", [1, 2], 0.25]
NO_OFFSETS = "no byte positions (ICRAR/ijson#47): no resume from a record, no exact error offset"


def _read_until_error(reader):
    """(records yielded, the exception that stopped the reader or None)."""
    values = []
    try:
        for value in reader:
            values.append(value)
    except Exception as error:
        return values, error
    return values, None


@pytest.mark.parametrize("indent", [None, 2])
@pytest.mark.parametrize("chunk_size", [7, 1000, 1 << 20])
def test_array_matches_json_load(tmp_path, reader_cls, indent, chunk_size):
    path = tmp_path / "data.json"
    path.write_text(json.dumps(RECORDS, indent=indent, ensure_ascii=False), encoding="utf-8")
    assert list(reader_cls(path, chunk_size=chunk_size)) == json.loads(path.read_text(encoding="utf-8"))


def test_bom_and_empty_array(tmp_path, reader_cls):
    path = tmp_path / "data.json"
    path.write_bytes(b"\xef\xbb\xbf  [ ]  ")
    assert list(reader_cls(path)) == []
    path.write_bytes(b'\xef\xbb\xbf[{"a": 1}]')
    assert list(reader_cls(path)) == [{"a": 1}]


def _write(path, bom=False):
    if path.suffix == ".json":
        text = json.dumps(RECORDS, indent=1, ensure_ascii=False)
    else:
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in RECORDS)
    path.write_bytes((codecs.BOM_UTF8 if bom else b"") + text.encode())


@pytest.mark.parametrize("bom", [False, True])
@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_resume_from_any_record(tmp_path, request, reader_cls, suffix, bom):
    """`tell()` after a record is the absolute byte offset just after it (a BOM counts); resuming gives the rest."""
    if suffix == ".json":
        ijson_fails(request, reader_cls, NO_OFFSETS)
    path = tmp_path / f"data{suffix}"
    _write(path, bom)
    data = path.read_bytes()
    reader = reader_cls(path, chunk_size=333)
    offsets = [0]
    for record in reader:
        offsets.append(reader.tell())
        # independent of the reader: the bytes since the previous offset are a separator and exactly this record
        piece = data[offsets[-2] : offsets[-1]].decode("utf-8-sig")
        piece = re.sub(r"^\s*[\[,]?", "", piece) if suffix == ".json" else piece
        assert json.loads(piece) == record and piece.rstrip() == piece.removesuffix("\n")  # JSONL: the line
    offsets = offsets[1:]
    for index in (0, 1, 350, len(RECORDS) - 2, len(RECORDS) - 1):
        assert list(reader_cls(path, offset=offsets[index], chunk_size=500)) == RECORDS[index + 1 :]


@pytest.mark.parametrize(
    ("text", "message", "offset", "before"),
    [
        ('[{"a": 1}, {"a": 2} {"a": 3}]', "expected ',' or ']'", 20, [{"a": 1}, {"a": 2}]),
        ('[{"a": 1}, {"a": 2', "malformed record", 18, [{"a": 1}]),
        ('[{"a": 1}, ', "unterminated JSON array", 11, [{"a": 1}]),
        ("[1, 2,]", "trailing comma", 6, [1, 2]),
        ("[1, 2, ]", "trailing comma", 7, [1, 2]),
        ("[1,,2]", "malformed record", 3, [1]),
        ("[,1]", "malformed record", 1, []),
        ('[{"a": 1}]\n[{"a": 2}]\n', "data after the end of the JSON array", 11, [{"a": 1}]),  # cat a.json b.json
        ('[{"a": 1}] junk', "data after the end of the JSON array", 11, [{"a": 1}]),
        ('[{"a": 1}]\n{"a": 2}\n', "data after the end of the JSON array", 11, [{"a": 1}]),  # JSONL after an array
        ("[1, 2] ]", "data after the end of the JSON array", 7, [1, 2]),
    ],
)
def test_malformed_array_raises_with_path_and_offset(tmp_path, request, reader_cls, text, message, offset, before):
    """Every malformation is a JsonStreamError naming the file and the byte offset of the problem; the records
    before it are yielded first (nothing after the closing `]` is ever dropped silently)."""
    path = tmp_path / "data.json"
    path.write_text(text)
    for chunk_size in (1, 4, 1 << 20):
        values, error = _read_until_error(reader_cls(path, chunk_size=chunk_size))
        assert isinstance(error, JsonStreamError) and str(path) in str(error) and "at byte" in str(error)
        assert values == before
    ijson_fails(request, reader_cls, NO_OFFSETS)
    assert message in str(error) and error.offset == offset


def test_not_an_array_is_read_as_jsonl(tmp_path):
    path = tmp_path / "data.json"
    path.write_text('{"a": 1}\n{"a": 2}')
    assert list(JsonRecordReader(path)) == [{"a": 1}, {"a": 2}]


def test_jsonl_whose_lines_are_arrays_keeps_every_line(tmp_path):
    """A `.jsonl` file is JSONL even when its first line is an array (it used to be read as one array, and every
    later line was lost)."""
    path = tmp_path / "data.jsonl"
    path.write_text('[1, 2]\n[3]\n{"a": 1}\n')
    assert list(JsonRecordReader(path)) == [[1, 2], [3], {"a": 1}]


def test_oversized_record_raises_instead_of_buffering(tmp_path):
    path = tmp_path / "data.json"
    path.write_text('[{"a": "' + "x" * 5000)
    with pytest.raises(JsonStreamError, match="larger than 1000 bytes"):
        list(JsonRecordReader(path, chunk_size=100, max_record_bytes=1000))


@pytest.mark.parametrize("chunk_size", [1, 5, 64, 1 << 20])
@pytest.mark.parametrize("bad", [b"\xff", b"\xc3(", b"\xed\xa0\x80"])  # invalid start byte, bad continuation, CESU
def test_invalid_utf8_in_array_is_an_error_with_absolute_offset(tmp_path, request, reader_cls, chunk_size, bad):
    head = json.dumps([{"t": "é" * i} for i in range(30)], ensure_ascii=False).encode()[:-1] + b', {"t": "'
    path = tmp_path / "data.json"
    path.write_bytes(head + bad + b'"}]')
    values, error = _read_until_error(reader_cls(path, chunk_size=chunk_size))
    assert isinstance(error, JsonStreamError) and str(path) in str(error)
    assert values == [{"t": "é" * i} for i in range(30)]  # everything before the bad byte was yielded
    ijson_fails(request, reader_cls, NO_OFFSETS)
    assert "invalid UTF-8" in str(error) and error.offset == len(head)


@pytest.mark.parametrize("chunk_size", [3, 1 << 20])
def test_array_cut_inside_a_multibyte_character(tmp_path, request, reader_cls, chunk_size):
    data = json.dumps([{"t": "ab"}, {"t": "x€"}], ensure_ascii=False).encode()
    cut = data.index("€".encode()) + 2  # the file ends after 2 of the 3 bytes of €
    path = tmp_path / "data.json"
    path.write_bytes(data[:cut])
    values, error = _read_until_error(reader_cls(path, chunk_size=chunk_size))
    assert isinstance(error, JsonStreamError) and values == [{"t": "ab"}]
    ijson_fails(request, reader_cls, NO_OFFSETS)
    assert error.offset == cut - 2 and "file ends inside a UTF-8 character" in str(error)


def test_deep_nesting_in_array_is_read_or_a_clear_error(tmp_path, reader_cls):
    """5000 levels: never a RecursionError (mmreason: JsonStreamError; ijson builds the value iteratively)."""
    depth = 5000
    path = tmp_path / "data.json"
    path.write_text('[{"a": 1}, ' + "[" * depth + "]" * depth + ', {"a": 2}]')
    values, error = _read_until_error(reader_cls(path, chunk_size=4096))
    assert values[0] == {"a": 1}
    if error is None:
        assert len(values) == 3 and values[2] == {"a": 2}
    else:
        assert isinstance(error, JsonStreamError) and "nested too deeply" in str(error) and error.offset == 11


def test_lone_surrogate_escape_is_kept_for_the_converter(tmp_path, request, reader_cls):
    """`"\\ud83d"` (a cut emoji) is valid JSON; it must reach the converter as is, which reports it."""
    path = tmp_path / "data.json"
    path.write_text('[{"t": "smile \\ud83d"}, {"t": "\\ud83d\\ude00"}]')
    ijson_fails(request, reader_cls, "yajl replaces a lone surrogate escape by '?', silently")
    assert list(reader_cls(path)) == [{"t": "smile \ud83d"}, {"t": "😀"}]


def test_jsonl_malformed_line_is_reported_and_reading_goes_on(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_text('{"a": 1}\n\n{"a": \n{"a": 3}\n')
    values = list(JsonRecordReader(path))
    assert values[0] == {"a": 1} and values[2] == {"a": 3}
    assert isinstance(values[1], MalformedRecord) and values[1].line == 3 and values[1].offset == 10


def test_jsonl_bad_lines_are_reported_with_absolute_offsets_and_reading_goes_on(tmp_path):
    """Invalid UTF-8, a line cut inside a multibyte character, ~100k levels of nesting and junk after a value are
    each one MalformedRecord (the error names the absolute byte offset for UTF-8); the other lines are all read."""
    lines = [b'{"a": 1}', b'{"t": "\xff"}', b'{"a": 2}', b"[" * 100_000 + b"]" * 100_000, b'{"a": 3} x', b" \t",
             b'{"a": 4}', b'{"t": "\xe2\x82']  # fmt: skip
    path = tmp_path / "data.jsonl"
    path.write_bytes(b"\n".join(lines))
    values = list(JsonRecordReader(path))
    good = [v for v in values if not isinstance(v, MalformedRecord)]
    bad = [v for v in values if isinstance(v, MalformedRecord)]
    assert good == [{"a": 1}, {"a": 2}, {"a": 4}]
    assert [b.line for b in bad] == [2, 4, 5, 8]
    starts = [sum(len(line) + 1 for line in lines[: b.line - 1]) for b in bad]
    assert [b.offset for b in bad] == starts
    assert f"at byte {starts[0] + 7}" in bad[0].error and "invalid UTF-8" in bad[0].error
    assert "nested too deeply" in bad[1].error and "Extra data" in bad[2].error
    assert f"at byte {starts[3] + 7}" in bad[3].error


def test_integers_beyond_64_bits(tmp_path, request, reader_cls):
    path = tmp_path / "data.json"
    path.write_text("[9223372036854775808, -12345678901234567890123, 1]")
    ijson_fails(request, reader_cls, "with use_float=True (floats as float, not Decimal) yajl overflows at 2**63")
    assert list(reader_cls(path)) == [2**63, -12345678901234567890123, 1]


@pytest.mark.parametrize("chunk_size", [1, 2, 3])
def test_numbers_cut_by_the_window_end(tmp_path, reader_cls, chunk_size):
    path = tmp_path / "data.json"
    path.write_text("[0.0, 1e5, -2.5E-3, 10, 7]")
    assert list(reader_cls(path, chunk_size=chunk_size)) == [0.0, 1e5, -2.5e-3, 10, 7]
