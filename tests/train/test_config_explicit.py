"""Explicit settings win over stage presets on every path (Python keywords, YAML recipe, command line), also when
they equal the library default; the defaults that are not presets (bf16, DDP, checkpointing) too."""

import warnings

import pytest
from transformers.utils import is_torch_bf16_gpu_available
from trl import SFTConfig

from mmreason.cli.sft import make_parser
from mmreason.train import RationaleSFTConfig

COMMON = {"output_dir": "unused", "use_cpu": True, "bf16": False, "report_to": "none"}
# TRL's own SFTConfig defaults for these fields (what "equal to the default" means)
TRL = SFTConfig(output_dir="unused", use_cpu=True, bf16=False, report_to="none")
REQUIRED = ["--model_name_or_path", "unused", "--dataset_name", "unused"]


def _parse(tmp_path, yaml: str, *cli: str) -> RationaleSFTConfig:
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("output_dir: unused\nuse_cpu: true\nreport_to: none\n" + yaml)
    _, training_args, _ = make_parser().parse_args_and_config(["--config", str(recipe), *REQUIRED, *cli])
    return training_args


def test_python_values_equal_to_the_default_win():
    config = RationaleSFTConfig(
        stage="si", learning_rate=TRL.learning_rate, lr_scheduler_type="linear", group_by_modality_length=False,
        weight_decay=0.0, warmup_steps=0, mm_vision_tower_lr=None, **COMMON,
    )  # fmt: skip
    assert (config.learning_rate, config.lr_scheduler_type, config.group_by_modality_length) == (
        2e-5, "linear", False
    )  # fmt: skip
    assert (config.warmup_steps, config.mm_vision_tower_lr) == (0, None)
    assert (config.max_length, config.chat_template_name) == (8192, "qwen_2_5")  # the rest of the preset applies


def test_python_max_length_under_ov_and_none():
    assert RationaleSFTConfig(stage="ov", max_length=8192, **COMMON).max_length == 8192
    assert RationaleSFTConfig(stage="ov", max_length=None, **COMMON).max_length is None
    assert RationaleSFTConfig(stage="ov", **COMMON).max_length == 16384


def test_without_a_stage_the_defaults_are_trls():
    config = RationaleSFTConfig(**COMMON)
    for key in ("learning_rate", "lr_scheduler_type", "warmup_steps", "weight_decay"):
        assert getattr(config, key) == getattr(TRL, key), key
    assert config.max_length == 8192 and config.group_by_modality_length is False


def test_readme_cli_example_learning_rate_wins(tmp_path):
    """`mmreason sft --config si.yaml --learning_rate 2e-5`, and the other overrides of the issue."""
    config = _parse(
        tmp_path, "stage: si\n", "--learning_rate", "2e-5", "--lr_scheduler_type", "linear",
        "--group_by_modality_length", "false",
    )  # fmt: skip
    assert (config.learning_rate, config.lr_scheduler_type, config.group_by_modality_length) == (
        2e-5, "linear", False
    )  # fmt: skip
    assert (config.mm_vision_tower_lr, config.warmup_steps, config.max_length) == (2e-6, 0.03, 8192)


def test_yaml_values_win(tmp_path):
    config = _parse(tmp_path, "stage: ov\nmax_length: 8192\nlearning_rate: 2.0e-5\nlr_scheduler_type: linear\n")
    assert (config.max_length, config.learning_rate, config.lr_scheduler_type) == (8192, 2e-5, "linear")
    assert _parse(tmp_path, "stage: ov\nmax_length: null\n").max_length is None
    assert _parse(tmp_path, "stage: ov\n").max_length == 16384


def test_cli_wins_over_yaml(tmp_path):
    config = _parse(tmp_path, "stage: si\nlearning_rate: 3.0e-5\n", "--learning_rate", "1e-5", "--max_length", "512")
    assert (config.learning_rate, config.max_length) == (1e-5, 512)


def test_defaults_that_are_not_presets():
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)  # no deprecated `gradient_checkpointing` from TRL's default
        config = RationaleSFTConfig(output_dir="unused", report_to="none")
    assert config.activation_checkpointing is True
    assert config.ddp_find_unused_parameters is False  # TRL would set True for a VLM (see test_sft.py for DDP)
    assert config.bf16 is is_torch_bf16_gpu_available()  # TRL's default (True everywhere) fails on a CPU
    assert RationaleSFTConfig(ddp_find_unused_parameters=True, **COMMON).ddp_find_unused_parameters is True
    assert RationaleSFTConfig(activation_checkpointing=False, **COMMON).gradient_checkpointing is False
    with pytest.warns(FutureWarning, match="gradient_checkpointing"):
        assert RationaleSFTConfig(gradient_checkpointing=False, **COMMON).activation_checkpointing is False
