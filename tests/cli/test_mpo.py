"""`mmreason mpo` as users run it: the recipes parse to InternVL's settings, train on a CPU as written (tiny model),
and a subprocess run on a Parquet folder of preference rows saves a checkpoint that reloads through the Auto
classes; mistakes end in one line before torch is imported."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from transformers import AutoModelForImageTextToText, AutoProcessor

from mmreason.cli.mpo import make_parser, run
from mmreason.testing import build_tiny
from tests.train.mpo_rows import preference_dataset

ROOT = Path(__file__).resolve().parents[2]
RECIPES = ROOT / "examples" / "recipes"
CPU = [
    "--use_cpu", "true", "--dtype", "float32", "--per_device_train_batch_size", "2",
    "--gradient_accumulation_steps", "1", "--dataloader_num_workers", "0", "--save_strategy", "no",
    "--logging_steps", "1",
]  # fmt: skip


def _env():
    """This checkout first on the path (whether or not mmreason is installed), offline, one thread."""
    path = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    return {**os.environ, "PYTHONPATH": path, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1",
            "TOKENIZERS_PARALLELISM": "false"}  # fmt: skip


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("mpo_cli")
    model, processor = build_tiny(seed=8)
    model.save_pretrained(root / "tiny")
    processor.save_pretrained(root / "tiny")
    preference_dataset(6).to_parquet(str(root / "pairs" / "train.parquet"))
    return root


def _parse(recipe: str, *extra: str):
    return make_parser().parse_args_and_config(
        ["--config", str(RECIPES / recipe), "--model_name_or_path", "m", "--dataset_name", "d", "--use_cpu", "true",
         *extra]
    )  # fmt: skip


def test_recipes_parse_to_internvls_settings():
    _, mpo, _ = _parse("mpo.yaml")
    assert (mpo.stage, mpo.loss_type, mpo.loss_weights, mpo.beta) == ("mpo", ["sigmoid", "bco_pair", "sft"],
                                                                      [0.8, 0.2, 1.0], 0.1)  # fmt: skip
    assert (mpo.learning_rate, mpo.num_train_epochs, mpo.warmup_steps, mpo.weight_decay) == (5e-6, 1.0, 0.03, 0.05)
    assert str(mpo.lr_scheduler_type.value) == "cosine" and mpo.reward_shift and mpo.tunable_parts == [
        "mm_vision_tower", "mm_mlp_adapter", "mm_language_model",
    ]  # fmt: skip
    _, rpo, _ = _parse("rpo.yaml")
    assert (rpo.loss_type, rpo.loss_weights, rpo.learning_rate) == (["sigmoid", "sft"], [1.0, 1.0], 5e-6)
    _, lora, model_args = _parse("mpo_lora.yaml")
    assert model_args.use_peft and lora.loss_weights == [0.8, 0.2, 1.0] and lora.learning_rate == 5e-5
    _, given, _ = _parse("mpo.yaml", "--loss_type", "sigmoid", "bco_pair", "--loss_weights", "1", "0.5")
    assert (given.loss_type, given.loss_weights) == (["sigmoid", "bco_pair"], [1.0, 0.5])


@pytest.mark.parametrize("recipe", ["rpo.yaml", "mpo_lora.yaml"])
def test_recipe_trains_on_cpu_as_written(workspace, recipe, tmp_path):
    out = tmp_path / "out"
    script_args, training_args, model_args = make_parser().parse_args_and_config(
        ["--config", str(RECIPES / recipe), "--model_name_or_path", str(workspace / "tiny"),
         "--dataset_name", str(workspace / "pairs"), "--max_steps", "1", "--output_dir", str(out), *CPU]
    )  # fmt: skip
    assert training_args.activation_checkpointing is True and not training_args.bf16  # CPU: fp32
    run(script_args, training_args, model_args)
    weights = out / ("adapter_model.safetensors" if model_args.use_peft else "model.safetensors")
    with safe_open(str(weights), "pt") as handle:
        names = list(handle.keys())
    assert names and (not model_args.use_peft or "base_model.model.model.image_newline" in names)


def test_mpo_trains_saves_and_reloads(workspace):
    out = workspace / "out"
    result = subprocess.run(
        [sys.executable, "-m", "mmreason.cli", "mpo", "--config", str(RECIPES / "mpo.yaml"),
         "--model_name_or_path", str(workspace / "tiny"), "--dataset_name", str(workspace / "pairs"),
         "--output_dir", str(out), "--max_steps", "2", "--learning_rate", "1e-3", "--warmup_steps", "0", *CPU],
        capture_output=True, text=True, env=_env(), cwd=workspace, timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, (result.stdout[-2000:], result.stderr[-4000:])
    assert "'loss/bco_pair'" in result.stdout and "'rewards/shift'" in result.stdout
    assert "Saved the model to" in result.stderr
    reloaded = AutoModelForImageTextToText.from_pretrained(str(out))
    AutoProcessor.from_pretrained(str(out))
    original, _ = build_tiny(seed=8)
    assert type(reloaded).__name__ == "MMReasonForConditionalGeneration"
    assert not torch.equal(reloaded.lm_head.weight, original.lm_head.weight)  # it trained


def _cli(argv: list[str], cwd) -> subprocess.CompletedProcess:
    code = f"""
    import sys
    from mmreason.cli import main
    try:
        main({argv!r})
        code = 0
    except SystemExit as exit:
        code = exit.code
    print("EXIT", code, "torch" in sys.modules)
    """
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=_env(), cwd=cwd,
        timeout=300,
    )  # fmt: skip


def test_mistakes_end_in_one_line_before_torch(tmp_path):
    missing = _cli(["mpo", "--model_name_or_path", "m", "--use_cpu", "true"], tmp_path)
    assert missing.stderr == (
        "mmreason mpo: error: --dataset_name is required (on the command line or in the --config file)\n"
    )
    assert "EXIT 2 False" in missing.stdout
    typo = _cli(["mpo", "--model_name_or_path", "m", "--dataset_name", "d", "--los_type", "sigmoid"], tmp_path)
    assert len(typo.stderr.splitlines()) == 1 and "mmreason mpo: error:" in typo.stderr, typo.stderr
    assert "--loss_type" in typo.stderr and "EXIT 2" in typo.stdout
