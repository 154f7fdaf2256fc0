"""`mmreason puma` as users run it: the Stage-2 recipe on a Parquet folder of PUMA pair rows, then the checkpoint
reloads through the Auto classes."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForImageTextToText, AutoProcessor

from mmreason.cli.puma import make_parser
from mmreason.testing import build_tiny
from mmreason.train.modules import part_of
from tests.train.test_puma_trainer import pair_dataset

ROOT = Path(__file__).resolve().parents[2]
RECIPE = ROOT / "examples" / "recipes" / "puma_stage2.yaml"
CPU = [
    "--use_cpu", "true", "--dtype", "float32", "--per_device_train_batch_size", "2",
    "--gradient_accumulation_steps", "1", "--dataloader_num_workers", "0", "--save_strategy", "no",
    "--logging_steps", "1", "--learning_rate", "1e-3", "--warmup_steps", "0",
]  # fmt: skip


def _env():
    """This checkout first on the path (whether or not mmreason is installed), offline, one thread."""
    path = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    return {**os.environ, "PYTHONPATH": path, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1",
            "TOKENIZERS_PARALLELISM": "false"}  # fmt: skip


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("puma_cli")
    model, processor = build_tiny(seed=7)
    model.save_pretrained(root / "tiny")
    processor.save_pretrained(root / "tiny")
    pair_dataset(6).to_parquet(str(root / "pairs" / "train.parquet"))
    return root


def test_recipe_parses_to_the_released_stage2_settings(workspace):
    _, args, model_args = make_parser().parse_args_and_config(
        ["--config", str(RECIPE), "--model_name_or_path", "m", "--dataset_name", "d", "--use_cpu", "true"]
    )
    assert (args.stage, args.loss_mode, args.alpha_kl, args.lambda_kl, args.temperature_kl) == (
        "stage2", "faithful", 0.5, 0.1, 1.0,
    )  # fmt: skip
    assert (args.learning_rate, args.warmup_steps, args.weight_decay) == (3e-5, 0.01, 0.1)
    assert args.tunable_parts == ["mm_vision_tower", "mm_mlp_adapter"] and args.seed == 3407
    assert str(args.lr_scheduler_type.value) == "cosine" and model_args.dtype == "bfloat16"


def test_puma_trains_saves_and_reloads(workspace):
    """The recipe as written (faithful loss; `corrected` is covered in tests/train/test_puma_trainer.py)."""
    out = workspace / "out"
    result = subprocess.run(
        [sys.executable, "-m", "mmreason.cli", "puma", "--config", str(RECIPE),
         "--model_name_or_path", str(workspace / "tiny"), "--dataset_name", str(workspace / "pairs"),
         "--output_dir", str(out), "--max_steps", "2", *CPU],
        capture_output=True, text=True, env=_env(), cwd=workspace, timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, (result.stdout[-2000:], result.stderr[-4000:])
    assert "'kl'" in result.stdout and "'ce'" in result.stdout and "Saved the model to" in result.stderr
    reloaded = AutoModelForImageTextToText.from_pretrained(str(out))
    AutoProcessor.from_pretrained(str(out))
    original, _ = build_tiny(seed=7)
    changed = {
        part_of(name)
        for name, param in reloaded.named_parameters()
        if not torch.equal(param, original.get_parameter(name))
    }
    assert changed == {"mm_vision_tower", "mm_mlp_adapter"}  # stage 2: the language model stays frozen


def test_unknown_flag_is_refused_in_one_line(workspace):
    result = subprocess.run(
        [sys.executable, "-m", "mmreason.cli", "puma", "--model_name_or_path", str(workspace / "tiny"),
         "--dataset_name", str(workspace / "pairs"), "--alpha", "0.3"],
        capture_output=True, text=True, env=_env(), cwd=workspace, timeout=300,
    )  # fmt: skip
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].startswith("mmreason puma: error:")


def test_missing_model_is_named_before_torch_is_imported(tmp_path):
    code = (
        "import sys\nfrom mmreason.cli import main\ntry:\n    main(['puma', '--use_cpu', 'true'])\n"
        "except SystemExit as exit:\n    print('EXIT', exit.code, 'torch' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=_env(), cwd=tmp_path, timeout=300
    )
    assert result.stderr == (
        "mmreason puma: error: --model_name_or_path is required (on the command line or in the --config file)\n"
    )
    assert result.stdout.strip() == "EXIT 2 False"
