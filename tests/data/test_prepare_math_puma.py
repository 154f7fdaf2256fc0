"""`prepare` of Math-PUMA's released Stage-2 JSON into PUMA pair rows (issue #12, item 2)."""

import json

import datasets
import pyarrow.parquet as pq
import pytest

from mmreason.data.builders.math_puma import math_puma_spec
from mmreason.data.prepare import prepare_corpus

from .preference_fixtures import PUMA_DROPS, PUMA_RECORDS, write_math_puma


@pytest.fixture(scope="module")
def puma(tmp_path_factory):
    root = tmp_path_factory.mktemp("stage2")
    images = write_math_puma(root / "Synthesis")
    spec, folder = math_puma_spec(root / "Synthesis" / "train.json")
    out = root / "out"
    state = prepare_corpus(spec, folder, out, progress=False, index_cache_dir=root / "index")["default"]
    rows = [row for path in sorted((out / "default").glob("*.parquet")) for row in pq.read_table(path).to_pylist()]
    return out, state, {row["id"]: row for row in rows}, images


def _parts(message):
    return [{key: value for key, value in part.items() if value is not None} for part in message["content"]]


def test_pairs_and_drops(puma):
    out, state, rows, _ = puma
    assert list(rows) == ["train-0", "train-1"] and state.rows == 2
    drops = [json.loads(line) for line in (out / "prepare_logs" / "default.drops.jsonl").read_text().splitlines()]
    assert {drop["id"]: drop["reason"] for drop in drops} == PUMA_DROPS
    assert {row["source"] for row in rows.values()} == {"Synthesis"}  # the JSON's folder


def test_text_rich_is_the_teacher_side_text_before_image(puma):
    _, _, rows, images = puma
    record, row = PUMA_RECORDS[0], rows["train-0"]
    assert row["answer"] == record["output"]
    assert [message["role"] for message in row["text_rich"]] == ["user", "assistant"]
    assert _parts(row["text_rich"][0]) == [{"type": "text", "text": record["instruction"]}, {"type": "image"}]
    assert _parts(row["vision_rich"][0]) == [{"type": "text", "text": record["instruction_2"]}, {"type": "image"}]
    for side in ("text_rich", "vision_rich"):
        assert _parts(row[side][1]) == [{"type": "text", "text": record["output"]}]
    # absolute paths of the authors' machine, found in images.tar.gz as images/<file>
    assert [(i["path"], i["bytes"]) for i in row["text_rich_images"]] == [("images/1_text.png", images["1_text.png"])]
    assert [i["bytes"] for i in row["vision_rich_images"]] == [images["1_vision.png"]]


def test_empty_image_url_is_a_text_only_teacher(puma):
    _, _, rows, images = puma
    row = rows["train-1"]
    assert row["text_rich_images"] == []
    assert _parts(row["text_rich"][0]) == [{"type": "text", "text": PUMA_RECORDS[1]["instruction"]}]
    assert [i["bytes"] for i in row["vision_rich_images"]] == [images["2_vision.png"]]


def test_loads_with_datasets(puma):
    out, _, _, _ = puma
    rows = datasets.load_dataset(str(out), split="train")
    assert rows.column_names == [
        "id", "source", "answer", "text_rich", "text_rich_images", "vision_rich", "vision_rich_images",
    ]  # fmt: skip
    assert rows[1]["text_rich_images"] == [] and rows[1]["vision_rich_images"][0].size == (40 + 13 % 7, 30 + 13 % 5)
    assert "mmreason data prepare math-puma" in (out / "README.md").read_text()


def test_pair_card_loads_strictly_as_a_dataset_card(puma):
    from huggingface_hub import DatasetCard

    out, _, _, _ = puma
    card = DatasetCard.load(out / "README.md", ignore_metadata_errors=False)
    assert card.data.to_dict()["configs"][0]["data_files"]
