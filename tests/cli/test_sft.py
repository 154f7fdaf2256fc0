"""`mmreason sft` as users run it: a recipe on a prepared Parquet folder, alone and under a 2-process CPU DDP."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mmreason.data.prepare import prepare_corpus
from mmreason.testing import build_tiny
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


def _run(command, cwd):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
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
    out = workspace / "out-ddp"
    result = _run(
        # accelerate 1.15's `--cpu` launches a single process; its torchrun launcher (`--multi_gpu`) + `use_cpu`
        # gives a real 2-rank gloo DDP run on CPU
        ["accelerate", "launch", "--num_processes", "2", "--multi_gpu", "--num_machines", "1",
         "--mixed_precision", "no", "--dynamo_backend", "no", "-m", "mmreason.cli", "sft", "--config", str(RECIPE),
         "--model_name_or_path", str(workspace / "tiny"), "--dataset_name", str(workspace / "prepared"),
         "--output_dir", str(out), "--max_steps", "3", *OVERRIDES],
        cwd=workspace,
    )  # fmt: skip
    logged = [line for line in result.stdout.splitlines() if "'loss'" in line]
    assert len(logged) == 3, result.stdout[-2000:]
    # 31 rows, 2 ranks x 2 rows per step, drop_last: 7 steps per epoch (one process would take 15)
    assert "'epoch': '0.4286'" in logged[-1], logged[-1]
    assert (out / "model.safetensors").exists()
