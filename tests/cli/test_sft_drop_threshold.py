"""`mmreason sft` on a dataset that sample hygiene would mostly drop: one error line with the per-reason counts and
the drop report's path, exit 1, nothing trained; `--max_drop_fraction` lets the user accept it (issue #19 item 3)."""

import os
import subprocess
import sys
from pathlib import Path

import datasets
import pytest

from mmreason.data import FEATURES
from mmreason.testing import build_tiny
from tests.train.helpers import mixed_rows
from tests.train.test_drop_threshold import _malformed, _missing_image

ARGS = [
    "--use_cpu", "true", "--bf16", "false", "--dtype", "float32", "--max_steps", "1", "--max_length", "4096",
    "--per_device_train_batch_size", "2", "--dataloader_num_workers", "0", "--save_strategy", "no",
    "--report_to", "none",
]  # fmt: skip
ROOT = str(Path(__file__).resolve().parents[2])


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("sft_drops")
    rows = mixed_rows(1) + [_malformed(i) for i in range(6)] + [_missing_image(i) for i in range(4)]  # 10 of 19 bad
    (root / "data" / "data").mkdir(parents=True)
    datasets.Dataset.from_list(rows, features=FEATURES).to_parquet(str(root / "data" / "data" / "train.parquet"))
    model, processor = build_tiny(seed=5)
    model.save_pretrained(root / "tiny")
    processor.save_pretrained(root / "tiny")
    return root


def _sft(workspace, out, *extra):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    env["PYTHONPATH"] = os.pathsep.join([ROOT, *filter(None, [os.environ.get("PYTHONPATH")])])  # this checkout
    command = [sys.executable, "-m", "mmreason.cli", "sft", "--model_name_or_path", str(workspace / "tiny"),
               "--dataset_name", str(workspace / "data"), "--output_dir", str(out), *ARGS, *extra]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=workspace, timeout=600)


def test_sft_stops_before_training_when_most_rows_are_dropped(workspace):
    out = workspace / "out-default"
    result = _sft(workspace, out)
    errors = [line for line in result.stderr.splitlines() if line.startswith("mmreason sft: error:")]
    assert result.returncode == 1, result.stderr[-3000:]
    assert len(errors) == 1 and "Traceback" not in result.stderr, result.stderr[-3000:]
    assert errors[0] == (
        "mmreason sft: error: sample hygiene kept 9 of 19 rows, dropped 10 (53%, more than --max_drop_fraction 0.5) "
        f"{{'malformed': 6, 'image_count_mismatch': 4}}; every dropped row and why: {out / 'dropped_samples.jsonl'}; "
        "stopped before training"
    )
    assert len((out / "dropped_samples.jsonl").read_text().splitlines()) == 10
    assert "'loss'" not in result.stdout and not (out / "model.safetensors").exists()


def test_sft_max_drop_fraction_flag_accepts_the_drops(workspace):
    out = workspace / "out-accepted"
    result = _sft(workspace, out, "--max_drop_fraction", "0.6")
    assert result.returncode == 0, result.stderr[-3000:]
    assert (out / "model.safetensors").exists()
    assert len((out / "dropped_samples.jsonl").read_text().splitlines()) == 10
