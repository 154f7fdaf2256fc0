import json

import pytest

from mmreason.data.json_stream import JsonRecordReader
from mmreason.data.llava import (
    RecordError,
    canonical_to_llava,
    llava_to_canonical,
    split_placeholders,
    write_llava_json,
)
from mmreason.data.schema import message_text
from mmreason.testing import build_tokenizer


def test_round_trip_fixture_records(mammoth_vl, visualwebinstruct):
    """LLaVA JSON -> canonical -> LLaVA JSON is the identity on records written the released way."""
    _, records = mammoth_vl
    _, vwi = visualwebinstruct
    for record in records["si"] + records["ov"] + vwi["conversation"]:
        row = llava_to_canonical(record)
        assert canonical_to_llava(row) == record


def test_single_multi_video_and_text_rows():
    single = llava_to_canonical({"id": 1, "image": "ai2d/a.png", "conversations": [
        {"from": "human", "value": "<image>\nWhat?"}, {"from": "gpt", "value": "This."}]})  # fmt: skip
    assert single["id"] == "1" and single["source"] == "ai2d" and single["category"] == "single_image"
    assert single["messages"][0] == {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What?"}]}
    turns = [{"from": "human", "value": "Left: <image>\nRight: <image>\nSame?"}, {"from": "gpt", "value": "No"}]
    multi = llava_to_canonical({"id": "m", "image": ["x/1.png", "x/2.png"], "conversations": turns})
    assert [p["type"] for p in multi["messages"][0]["content"]] == ["text", "image", "text", "image", "text"]
    assert multi["category"] == "multi_image" and multi["images"] == ["x/1.png", "x/2.png"]
    video = llava_to_canonical({"id": "v", "video": "clips/v.mp4", "conversations": [
        {"from": "human", "value": "<image>\nWhat happens?"}, {"from": "gpt", "value": "It rolls."}]})  # fmt: skip
    assert video["messages"][0]["content"][0] == {"type": "video"} and video["videos"] == ["clips/v.mp4"]
    assert video["category"] == "video" and video["images"] == []
    text = llava_to_canonical({"conversations": [{"role": "system", "content": "Be brief."},
        {"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}]}, "file-7")  # fmt: skip
    assert text["id"] == "file-7" and text["category"] == "text" and text["source"] == ""
    assert [m["role"] for m in text["messages"]] == ["system", "user", "assistant"]


def test_metadata_fields_are_kept():
    turns = [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]
    record = {
        "id": "a",
        "data_source": "geo170k",
        "category": "Code&Math",
        "quality_group": "B",
        "conversations": turns,
    }
    row = llava_to_canonical(record)
    assert (row["source"], row["category"], row["quality_group"]) == ("geo170k", "Code&Math", "B")
    assert canonical_to_llava(row, keep_metadata=True)["source"] == "geo170k"


def test_chat_template_renders_the_llava_text():
    """The canonical parts render to exactly the text LLaVA-NeXT trains on (string content = LLaVA's value)."""
    tokenizer = build_tokenizer()
    record = {"id": "x", "image": ["a.png", "b.png"], "conversations": [
        {"from": "human", "value": "<image>\n<image>\nCompare the two."}, {"from": "gpt", "value": "Same."},
        {"from": "human", "value": "Sure?"}, {"from": "gpt", "value": "Yes."}]}  # fmt: skip
    row = llava_to_canonical(record)
    as_strings = [{"role": m["role"], "content": message_text(m)} for m in row["messages"]]
    assert [m["content"] for m in as_strings] == [t["value"] for t in record["conversations"]]
    assert tokenizer.apply_chat_template(row["messages"], tokenize=False) == tokenizer.apply_chat_template(
        as_strings, tokenize=False
    )


def test_placeholder_newline_is_normalised():
    assert split_placeholders("<image>What?") == [{"type": "image"}, {"type": "text", "text": "What?"}]
    assert split_placeholders("Q <video>") == [{"type": "text", "text": "Q "}, {"type": "video"}]
    assert split_placeholders("") == []


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ([1, 2], "malformed"),
        ({"id": "a"}, "malformed"),
        ({"id": "a", "conversations": [{"from": "robot", "value": "hi"}]}, "bad_role"),
        ({"id": "a", "conversations": [{"from": "human", "value": None}]}, "malformed"),
        ({"id": "a", "image": 5, "conversations": []}, "malformed"),
        ({"id": "a", "image": "a.png", "video": "v.mp4", "conversations": []}, "malformed"),
    ],
)
def test_bad_records_raise_record_error(record, reason):
    with pytest.raises(RecordError) as info:
        llava_to_canonical(record, "fallback")
    assert info.value.reason == reason


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_write_llava_json_streams_both_formats(tmp_path, mammoth_vl, suffix):
    _, records = mammoth_vl
    rows = [llava_to_canonical(record) for record in records["ov"]]
    path = tmp_path / f"out{suffix}"
    assert write_llava_json(iter(rows), path) == len(rows)
    assert list(JsonRecordReader(path)) == records["ov"]
    if suffix == ".json":
        assert json.loads(path.read_text()) == records["ov"]


def test_write_llava_json_writes_embedded_media(tmp_path):
    row = llava_to_canonical({"id": "a", "image": "src/x.png", "conversations": [
        {"from": "human", "value": "<image>\nQ"}, {"from": "gpt", "value": "A"}]})  # fmt: skip
    row["images"] = [{"bytes": b"png-bytes", "path": "src/x.png"}]
    write_llava_json([row], tmp_path / "out.json", media_folder=tmp_path / "media")
    assert (tmp_path / "media" / "src" / "x.png").read_bytes() == b"png-bytes"
    row["images"] = [{"bytes": b"x", "path": "../../escape.png"}]
    with pytest.raises(ValueError, match="escapes"):
        write_llava_json([row], tmp_path / "out2.json", media_folder=tmp_path / "media")


TURNS = [{"from": "human", "value": "Q?"}, {"from": "gpt", "value": "A."}]


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"id": "a", "conversations": [{"from": ["human"], "value": "hi"}]}, "bad_role"),  # TypeError: unhashable
        ({"id": "a", "conversations": [{"from": {"name": "human"}, "value": "hi"}]}, "bad_role"),
        ({"id": "a", "conversations": [{"role": ["user"], "content": "hi"}]}, "bad_role"),
        ({"id": "a", "conversations": [{"from": 3, "value": "hi"}]}, "bad_role"),
        ({"id": {"x": 1}, "conversations": TURNS}, "malformed"),
        ({"id": "a", "source": ["x"], "conversations": TURNS}, "malformed"),
        ({"id": "a", "category": {"c": 1}, "conversations": TURNS}, "malformed"),
        ({"id": "a", "quality_group": True, "conversations": TURNS}, "malformed"),
        ({"id": "a", "conversations": [{"from": "human", "value": "smile \ud83d"}, TURNS[1]]}, "invalid_unicode"),
        ({"id": "a", "conversations": [TURNS[0], {"from": "gpt", "value": "\ude00 tail"}]}, "invalid_unicode"),
        ({"id": "a\ud83d", "conversations": TURNS}, "invalid_unicode"),
        ({"id": "a", "image": "dir/\udcff.png", "conversations": TURNS}, "invalid_unicode"),
        ({"id": "a", "source": "s\ud800", "conversations": TURNS}, "invalid_unicode"),
    ],
)
def test_wrong_types_and_lone_surrogates_are_record_errors(record, reason):
    """Each of these used to crash the job (TypeError) or pass and kill pyarrow later (UnicodeEncodeError)."""
    with pytest.raises(RecordError) as info:
        llava_to_canonical(record, "fallback")
    assert info.value.reason == reason
    assert info.value.record_id in ("a", "a\ud83d", "fallback")


def test_lone_surrogate_read_from_json_is_reported_not_written(tmp_path):
    """The full path: a truncated emoji in a JSON file is read, then the converter reports it."""
    path = tmp_path / "data.json"
    path.write_text(
        '[{"id": "e", "conversations": [{"from": "human", "value": "\\ud83d"}, {"from": "gpt", "value": "A"}]}]'
    )
    (record,) = list(JsonRecordReader(path))
    with pytest.raises(RecordError, match="lone surrogate") as info:
        llava_to_canonical(record)
    assert info.value.reason == "invalid_unicode" and info.value.record_id == "e"
    emoji = {"id": "e", "conversations": [{"from": "human", "value": "\ud83d\ude00"}, {"from": "gpt", "value": "A"}]}
    assert llava_to_canonical(json.loads(json.dumps(emoji)))["messages"][0]["content"][0]["text"] == "😀"


def _row(row_id, text):
    return {"id": row_id, "messages": [{"role": "user", "content": [{"type": "text", "text": text}]}]}


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_write_llava_json_never_leaves_a_temporary_file(tmp_path, suffix):
    path = tmp_path / f"out{suffix}"
    path.write_text("previous export")
    with pytest.raises(RecordError) as info:
        write_llava_json([_row("ok", "fine"), _row("bad", "cut \ud83d")], path)
    assert info.value.reason == "invalid_unicode" and info.value.record_id == "bad"

    def rows():
        yield _row("ok", "fine")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_llava_json(rows(), path)
    with pytest.raises(KeyError):
        write_llava_json([{"id": "no-messages"}], path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name] and path.read_text() == "previous export"


def test_video_part_in_a_row_without_videos_keeps_its_placeholder():
    row = llava_to_canonical({"id": "v", "image": "a.png", "conversations": [
        {"from": "human", "value": "<image>\n<video>\nQ"}, {"from": "gpt", "value": "A"}]})  # fmt: skip
    assert [p["type"] for p in row["messages"][0]["content"]] == ["image", "video", "text"]
    assert canonical_to_llava(row)["conversations"][0]["value"] == "<image>\n<video>\nQ"
    assert llava_to_canonical(canonical_to_llava(row)) == row
