"""`mmreason mpo --config examples/recipes/mpo.yaml [--key value ...]`: Mixed Preference Optimization (InternVL's
MPO / RPO) with TRL's `DPOTrainer`.

The same conventions as `mmreason sft` (its checks, parsing and model loading do the work): arguments are TRL's
`ScriptArguments` (`dataset_name` = a folder of preference rows, e.g. what `mmreason data prepare mmpr` writes, or a
Hub id; `dataset_train_split`, ...) and `ModelConfig` (`model_name_or_path`, `dtype`, `attn_implementation`,
`use_peft`, `lora_*`, `load_in_4bit`, ...), plus every [`MPOConfig`] field (`stage` mpo/rpo, `loss_type`,
`loss_weights`, `beta`, `reward_shift`, `forward_mode`, `mm_tunable_parts`, and all of `DPOConfig`). Keys shared with
`trl dpo` mean the same thing, except `max_length`, which drops longer pairs instead of truncating them. Required keys
are checked before torch is imported, unknown flags are refused, mistakes end in one line (`--debug` for the
traceback). The reference model is a frozen copy of the loaded model, or, with `use_peft`, the model with its
adapters disabled.

Several GPUs: `accelerate launch --config_file examples/accelerate/zero3.yaml -m mmreason.cli mpo --config ...`.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from .errors import run_command
from .sft import _main as train_main
from .sft import train_and_save, training_parser

if TYPE_CHECKING:
    from trl import ModelConfig, ScriptArguments, TrlParser

    from ..train import MPOConfig

USAGE = "mmreason mpo [--config RECIPE.yaml] --model_name_or_path PATH --dataset_name PAIRS [--key value ...]"
ESSENTIAL = ("config", "model_name_or_path", "dataset_name", "dataset_config", "output_dir", "stage", "loss_type")


def make_parser() -> TrlParser:
    """The parser `mmreason mpo` uses; its help lists what to train, then mmreason's MPO flags."""
    from trl import DPOConfig

    from ..train import MPOConfig

    return training_parser("mmreason mpo", MPOConfig, DPOConfig, USAGE, ESSENTIAL, "mmreason MPO options")


def run(script_args: ScriptArguments, training_args: MPOConfig, model_args: ModelConfig) -> str:
    """Load, train with [`MPOTrainer`], save; returns the output folder."""
    return train_and_save("MPOTrainer", script_args, training_args, model_args)


def main(argv: list[str] | None = None) -> None:
    """Entry point of `mmreason mpo`."""
    run_command("mmreason mpo", partial(train_main, parser=make_parser, runner=run), argv)
