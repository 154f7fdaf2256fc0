"""`mmreason eval` end to end as a subprocess: tiny model, local benchmark folder, report files."""

import json
import os
import subprocess
import sys

from mmreason.testing import build_tiny
from tests.eval.fixtures import write_mathvista


def test_eval_cli_on_a_local_benchmark(tmp_path):
    model, processor = build_tiny(seed=8)
    model.save_pretrained(tmp_path / "tiny")
    processor.save_pretrained(tmp_path / "tiny")
    data = write_mathvista(tmp_path / "mathvista")
    command = [
        sys.executable, "-m", "mmreason.cli", "eval", "--model", str(tmp_path / "tiny"),
        "--benchmark", "mathvista_testmini", "--data", str(data), "--limit", "3", "--max_new_tokens", "4",
        "--batch_size", "2", "--dtype", "float32", "--output_dir", str(tmp_path / "out"),
    ]  # fmt: skip
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["benchmark"] == "mathvista_testmini" and summary["missing"] == 0
    assert set(summary["accuracy"]) == {"strict", "official"}
    out = tmp_path / "out" / "mathvista_testmini"
    for name in ("predictions.jsonl", "scores.jsonl", "results.json", "results.md", "results.png"):
        assert (out / name).exists(), name
    assert len((out / "predictions.jsonl").read_text().splitlines()) == 3
    rerun = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert rerun.returncode == 0 and len((out / "predictions.jsonl").read_text().splitlines()) == 3  # resumed
