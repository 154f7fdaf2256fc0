"""`mmreason data prepare mmpr | math-puma` as users run them (subprocesses, offline), and TRL's vision-preference
collator on the prepared rows (issue #12, item 2)."""

import datasets
import pytest
import torch
from trl.trainer.dpo_trainer import DataCollatorForVisionPreference

from mmreason.cli.data import main as data_main
from mmreason.testing import build_tiny
from tests.data.preference_fixtures import write_math_puma, write_mmpr

from .test_data import _run

GEOQA = "geoqa_pairs_vqa_correctness_rules"


@pytest.fixture(scope="module")
def prepared_mmpr(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli_mmpr")
    write_mmpr(root / "MMPR-v1.2")
    result = _run(
        "prepare", "mmpr", "--source", root / "MMPR-v1.2", "--out", root / "out", "--index_cache_dir", root / "index",
        cwd=root,
    )  # fmt: skip
    return root, result


def test_prepare_mmpr_subprocess(prepared_mmpr):
    root, result = prepared_mmpr
    assert "default: 10 rows in 1 shards, dropped" in result.stderr
    rows = datasets.load_dataset(str(root / "out"), split="train")
    assert rows.num_rows == 10 and rows[0]["id"] == f"{GEOQA}-0"


def test_trl_vision_preference_collator_takes_a_prepared_batch(prepared_mmpr):
    root, _ = prepared_mmpr
    rows = datasets.load_dataset(str(root / "out"), split="train")
    batch = [rows[0], rows[1], rows[4], rows[5]]  # one image, two images, one image (loose file), text only
    _, processor = build_tiny()
    inputs = DataCollatorForVisionPreference(processor)(batch)
    assert inputs["input_ids"].shape[0] == 8 and inputs["completion_mask"].shape == inputs["input_ids"].shape
    assert inputs["batch_num_images"].sum() == 8  # (1 + 2 + 1) images, repeated for chosen and rejected
    tokenizer = processor.tokenizer
    completions = [row["chosen"][0]["content"][0]["text"] for row in batch]
    completions += [row["rejected"][0]["content"][0]["text"] for row in batch]
    for index, text in enumerate(completions):  # the chat template's assistant turn: text + <|im_end|>\n
        ids = inputs["input_ids"][index][inputs["completion_mask"][index].bool()]
        assert tokenizer.decode(ids) == text + "<|im_end|>\n"
        prompt = inputs["input_ids"][index][
            inputs["attention_mask"][index].bool() & ~inputs["completion_mask"][index].bool()
        ]
        assert tokenizer.decode(prompt).rstrip().endswith("<|im_start|>assistant")
    image_token = processor.tokenizer.convert_tokens_to_ids(processor.image_token)
    counts = (inputs["input_ids"] == image_token).sum(dim=1)
    assert counts[:4].tolist() == counts[4:].tolist() and counts[3] == 0 and torch.all(counts[:3] > 0)


def test_prepare_math_puma_subprocess(tmp_path):
    write_math_puma(tmp_path / "Synthesis")
    result = _run(
        "prepare", "math-puma", "--source", tmp_path / "Synthesis" / "train.json", "--out", tmp_path / "out",
        "--index_cache_dir", tmp_path / "index", "--max_drop_fraction", "0.7", cwd=tmp_path,
    )  # fmt: skip
    assert "default: 2 rows in 1 shards, dropped" in result.stderr
    rows = datasets.load_dataset(str(tmp_path / "out"), split="train")
    assert rows.num_rows == 2 and rows[0]["answer"] == rows[0]["text_rich"][1]["content"][0]["text"]
    assert len(rows[0]["text_rich_images"]) == len(rows[0]["vision_rich_images"]) == 1


def test_prepare_errors_are_one_line(tmp_path):
    write_math_puma(tmp_path / "Synthesis")
    source = ["--source", str(tmp_path / "Synthesis" / "train.json"), "--index_cache_dir", str(tmp_path / "index")]
    with pytest.raises(SystemExit, match=r"kept 2 of 6 records, dropped 4 .*answer_mismatch"):
        data_main(["prepare", "math-puma", *source, "--out", str(tmp_path / "out")])  # default --max_drop_fraction 0.5
    (tmp_path / "mmpr").mkdir()
    (tmp_path / "mmpr" / "meta.json").write_text('{"x": {"root": "", "annotation": "gone.jsonl", "repeat_time": 1}}')
    with pytest.raises(SystemExit, match=r"mmreason data prepare: .*1 annotation file\(s\) not found"):
        data_main(["prepare", "mmpr", "--source", str(tmp_path / "mmpr"), "--out", str(tmp_path / "o2")])
