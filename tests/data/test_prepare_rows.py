"""Canonical rows (the bundled sample's format) as a `data prepare` source, and runs that keep too little fail
(issue #19 item 3). References: the raw `rows.jsonl` and the image files themselves."""

import json
import os
import subprocess
import sys
from pathlib import Path

import datasets
import pytest

from mmreason.cli.data import main as data_main
from mmreason.data.builders import canonical_to_row
from mmreason.data.llava import RecordError
from mmreason.testing import build_tiny, make_image

SAMPLE = Path(__file__).resolve().parents[2] / "mmreason" / "assets" / "sample" / "rows.jsonl"
RAW = [json.loads(line) for line in SAMPLE.read_text().splitlines() if line.strip()]


def _cli(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "mmreason.cli", "data", *map(str, args)],
        capture_output=True, text=True, cwd=cwd, timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )  # fmt: skip


def _assert_is_the_sample(folder: Path) -> None:
    rows = datasets.load_dataset(str(folder), "default", split="train")
    rows = rows.cast_column("images", datasets.List(datasets.Image(decode=False)))
    assert len(rows) == len(RAW) == 8
    for row, raw in zip(rows, RAW, strict=True):
        assert row["id"] == raw["id"] and row["category"] == raw["category"] and row["source"] == raw["source"]
        assert [m["role"] for m in row["messages"]] == [m["role"] for m in raw["messages"]]
        for got, want in zip(row["messages"], raw["messages"], strict=True):
            assert [{k: v for k, v in p.items() if v is not None} for p in got["content"]] == want["content"]
        assert [image["bytes"] for image in row["images"]] == [(SAMPLE.parent / p).read_bytes() for p in raw["images"]]


@pytest.mark.parametrize("corpus", ["rows", "llava"])
def test_the_bundled_sample_prepares_with_every_row(tmp_path, corpus):
    """`rows` explicitly, and `llava` (the README's old spelling) by detecting the format: was 0 rows, exit 0."""
    result = _cli("prepare", corpus, "--source", SAMPLE, "--out", tmp_path / "sample", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "default: 8 rows in 1 shards, dropped {}" in result.stderr
    _assert_is_the_sample(tmp_path / "sample")


def test_a_prepare_that_keeps_no_rows_exits_non_zero_with_reasons_and_log(tmp_path):
    """A JSON array of canonical rows read as LLaVA records: all 8 malformed. Was: exit 0 with "0 rows"."""
    source = tmp_path / "rows_as_array.json"
    source.write_text(json.dumps(RAW))
    result = _cli("prepare", "llava", "--source", source, "--out", tmp_path / "out", cwd=tmp_path)
    log = tmp_path / "out" / "prepare_logs" / "default.drops.jsonl"
    assert result.returncode != 0
    assert "kept 0 of 8 records, dropped 8" in result.stderr and "{'malformed': 8}" in result.stderr
    assert str(log) in result.stderr and len(log.read_text().splitlines()) == 8


def _mixed_rows(folder: Path) -> Path:
    """5 canonical rows: 3 good, one with an unknown role, one whose image is missing (40% dropped)."""
    folder.mkdir()
    make_image(30, 20, seed=4).save(folder / "a.png")
    question = {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Q?"}]}
    good = {
        "messages": [question, {"role": "assistant", "content": [{"type": "text", "text": "A."}]}],
        "images": ["a.png"],
    }
    rows = [dict(good, id=f"good-{i}") for i in range(3)]
    rows.append(dict(good, id="bad-role", messages=[{"role": "robot", "content": []}], images=[]))
    rows.append(dict(good, id="no-image", images=["missing.png"]))
    (folder / "mixed.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    return folder / "mixed.jsonl"


def test_max_drop_fraction_is_the_users_threshold(tmp_path):
    source = _mixed_rows(tmp_path / "raw")
    data_main(["prepare", "rows", "--source", str(source), "--out", str(tmp_path / "ok")])  # 40% <= 0.5: passes
    assert json.loads((tmp_path / "ok" / "prepare_logs" / "default.state.json").read_text())["rows"] == 3
    with pytest.raises(SystemExit) as raised:
        data_main(["prepare", "rows", "--source", str(source), "--out", str(tmp_path / "strict"),
                   "--max_drop_fraction", "0.3"])  # fmt: skip
    message = str(raised.value)
    assert "kept 3 of 5 records, dropped 2 (40%, more than --max_drop_fraction 0.3)" in message
    assert "'bad_role': 1" in message and "'missing_image': 1" in message
    assert str(tmp_path / "strict" / "prepare_logs" / "default.drops.jsonl") in message


def test_validate_that_would_keep_nothing_exits_non_zero(tmp_path):
    data_main(["prepare", "rows", "--source", str(SAMPLE), "--out", str(tmp_path / "sample")])
    build_tiny()[1].save_pretrained(tmp_path / "processor")
    args = ["validate", str(tmp_path / "sample"), "--processor", str(tmp_path / "processor"), "--out"]
    data_main([*args, str(tmp_path / "report"), "--image_check", "header"])  # every row fits the default budget
    with pytest.raises(SystemExit) as raised:  # a 16-token budget: every sample row is over length
        data_main([*args, str(tmp_path / "short"), "--max_length", "16", "--image_check", "header"])
    assert "0 of 8 rows kept, 8 to drop" in str(raised.value) and "'over_length': 8" in str(raised.value)
    assert str(tmp_path / "short" / "dropped.jsonl") in str(raised.value)


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ([1, 2], "malformed"),
        ({"id": "x"}, "malformed"),
        ({"messages": [{"role": "human", "content": "hi"}]}, "bad_role"),
        ({"messages": [{"role": "user", "content": [{"type": "audio"}]}]}, "malformed"),
        ({"messages": [{"role": "user", "content": [{"type": "text", "text": None}]}]}, "malformed"),
        ({"messages": [{"role": "user", "content": [{"type": "text", "text": "q"}]}], "images": "a.png"}, "malformed"),
        ({"messages": [{"role": "user", "content": [{"type": "text", "text": "\ud83d"}]}]}, "invalid_unicode"),
    ],
)
def test_bad_canonical_records_are_dropped_with_their_reason(record, reason):
    with pytest.raises(RecordError) as raised:
        canonical_to_row(record, "r-0")
    assert raised.value.reason == reason


def test_string_content_reads_inline_placeholders():
    row = canonical_to_row({"messages": [{"role": "user", "content": "<image>\nQ"}], "images": ["a.png"]}, "r-0")
    assert row["messages"][0]["content"] == [{"type": "image"}, {"type": "text", "text": "Q"}]
    assert (row["id"], row["category"], row["videos"]) == ("r-0", "single_image", [])
