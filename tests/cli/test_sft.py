"""`mmreason sft` as users run it: a recipe on a prepared Parquet folder, alone and under a 2-process CPU DDP."""

import json
import os
import subprocess
import sys
from pathlib import Path

import datasets
import pytest

from mmreason.data.prepare import prepare_corpus
from mmreason.testing import build_tiny
from mmreason.train.collator import MultimodalSFTCollator
from tests.data.corpus_fixtures import write_mammoth_vl

RECIPE = Path(__file__).resolve().parents[2] / "examples" / "recipes" / "si.yaml"
OVERRIDES = [
    "--dataset_config", "si", "--use_cpu", "true", "--bf16", "false", "--dtype", "float32",
    "--per_device_train_batch_size", "2", "--gradient_accumulation_steps", "1", "--dataloader_num_workers", "0",
    "--max_length", "4096", "--save_strategy", "no", "--logging_steps", "1",
]  # fmt: skip


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("sft_cli")
    write_mammoth_vl(root / "raw")
    prepare_corpus("mammoth-vl", root / "raw", root / "prepared", subsets=["si"], progress=False)
    model, processor = build_tiny(seed=5)
    model.save_pretrained(root / "tiny")
    processor.save_pretrained(root / "tiny")
    return root


def _run(command, cwd, env_extra=None):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    env.update(env_extra or {})
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=900)
    assert result.returncode == 0, (result.stdout[-2000:], result.stderr[-4000:])
    return result


def test_sft_recipe_trains_on_a_prepared_folder(workspace):
    out = workspace / "out-single"
    result = _run(
        [sys.executable, "-m", "mmreason.cli", "sft", "--config", str(RECIPE),
         "--model_name_or_path", str(workspace / "tiny"), "--dataset_name", str(workspace / "prepared"),
         "--output_dir", str(out), "--max_steps", "2", "--multimodal_packing", "true", *OVERRIDES],
        cwd=workspace,
    )  # fmt: skip
    assert "'loss'" in result.stdout and (out / "model.safetensors").exists()
    assert "Saved the model to" in result.stderr


def test_sft_under_two_process_cpu_ddp(workspace):
    """A real 2-rank gloo run: DDP without `find_unused_parameters` (TRL would set it for a VLM), hygiene on both
    ranks but only rank 0 writes `dropped_samples.jsonl`."""
    out, probe = workspace / "out-ddp", workspace / "probe"
    probe.mkdir()
    budget = 246  # the fixture's rows are 93, 221 (x18), 247 (x6) and 296 (x6) tokens long
    _, processor = build_tiny(seed=5)
    rows = datasets.load_dataset(str(workspace / "prepared"), "si", split="train")
    over = {row["id"] for row in rows if len(MultimodalSFTCollator(processor)([row])["input_ids"][0]) > budget}
    result = _run(
        # accelerate 1.15's `--cpu` launches a single process; its torchrun launcher (`--multi_gpu`) + `use_cpu`
        # gives a real 2-rank gloo DDP run on CPU
        ["accelerate", "launch", "--num_processes", "2", "--multi_gpu", "--num_machines", "1",
         "--mixed_precision", "no", "--dynamo_backend", "no", str(Path(__file__).with_name("ddp_probe.py")),
         "--config", str(RECIPE), "--model_name_or_path", str(workspace / "tiny"),
         "--dataset_name", str(workspace / "prepared"), "--output_dir", str(out), "--max_steps", "3",
         *OVERRIDES, "--max_length", str(budget)],
        cwd=workspace, env_extra={"DDP_PROBE_DIR": str(probe)},
    )  # fmt: skip
    logged = [line for line in result.stdout.splitlines() if "'loss'" in line]
    assert len(logged) == 3, result.stdout[-2000:]
    # 31 - 12 kept rows, 2 ranks x 2 rows per step, drop_last: 4 steps per epoch (one process would take 9)
    assert len(over) == 12 and "'epoch': '0.75'" in logged[-1], logged[-1]
    assert (out / "model.safetensors").exists()
    ranks = [json.loads((probe / f"rank{rank}.json").read_text()) for rank in (0, 1)]
    for record in ranks:
        assert record["wrapper"] == "DistributedDataParallel" and record["find_unused_parameters"] is False
        assert record["dropped_samples"] == {"over_length": 12}
    assert [w["records"] for w in ranks[0]["report_writes"]] == [12] and ranks[1]["report_writes"] == []
    dropped = [json.loads(line) for line in (out / "dropped_samples.jsonl").read_text().splitlines()]
    assert {d["id"] for d in dropped} == over
