import json

import pytest

from mmreason.data.json_stream import JsonRecordReader, JsonStreamError, MalformedRecord

RECORDS = [{"id": i, "text": "π ≈ 3.14159 ° " * (i % 9), "values": [i, 1.5e-3, None, True]} for i in range(700)]
RECORDS += [123456789, "a string", [1, 2], 0.25]


@pytest.mark.parametrize("indent", [None, 2])
@pytest.mark.parametrize("chunk_size", [7, 1000, 1 << 20])
def test_array_matches_json_load(tmp_path, indent, chunk_size):
    path = tmp_path / "data.json"
    path.write_text(json.dumps(RECORDS, indent=indent, ensure_ascii=False), encoding="utf-8")
    assert list(JsonRecordReader(path, chunk_size=chunk_size)) == json.loads(path.read_text(encoding="utf-8"))


def test_bom_and_empty_array(tmp_path):
    path = tmp_path / "data.json"
    path.write_bytes(b"\xef\xbb\xbf  [ ]  ")
    assert list(JsonRecordReader(path)) == []
    path.write_bytes(b'\xef\xbb\xbf[{"a": 1}]')
    assert list(JsonRecordReader(path)) == [{"a": 1}]


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_resume_from_any_record(tmp_path, suffix):
    path = tmp_path / f"data{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps(RECORDS, indent=1, ensure_ascii=False), encoding="utf-8")
    else:
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in RECORDS), encoding="utf-8")
    reader = JsonRecordReader(path, chunk_size=333)
    offsets = []
    for _ in reader:
        offsets.append(reader.tell())
    for index in (0, 1, 350, len(RECORDS) - 2, len(RECORDS) - 1):
        assert list(JsonRecordReader(path, offset=offsets[index], chunk_size=500)) == RECORDS[index + 1 :]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[{"a": 1}, {"a": 2} {"a": 3}]', "expected ',' or ']'"),
        ('[{"a": 1}, {"a": 2', "malformed record"),
        ('[{"a": 1}, ', "unterminated JSON array"),
        ('{"a": 1}\n{"a": 2}', None),  # not an array: read as JSONL
    ],
)
def test_malformed_array_raises_with_offset(tmp_path, text, message):
    path = tmp_path / "data.json"
    path.write_text(text)
    if message is None:
        assert list(JsonRecordReader(path)) == [{"a": 1}, {"a": 2}]
        return
    with pytest.raises(JsonStreamError, match=message) as info:
        list(JsonRecordReader(path))
    assert "at byte" in str(info.value) and str(path) in str(info.value)


def test_oversized_record_raises_instead_of_buffering(tmp_path):
    path = tmp_path / "data.json"
    path.write_text('[{"a": "' + "x" * 5000)
    with pytest.raises(JsonStreamError, match="larger than 1000 bytes"):
        list(JsonRecordReader(path, chunk_size=100, max_record_bytes=1000))


def test_jsonl_malformed_line_is_reported_and_reading_goes_on(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_text('{"a": 1}\n\n{"a": \n{"a": 3}\n')
    values = list(JsonRecordReader(path))
    assert values[0] == {"a": 1} and values[2] == {"a": 3}
    assert isinstance(values[1], MalformedRecord) and values[1].line == 3 and values[1].offset == 10
