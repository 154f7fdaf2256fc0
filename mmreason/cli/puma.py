"""`mmreason puma --config examples/recipes/puma_stage2.yaml [--key value ...]`: Math-PUMA Stage-2 KL alignment.

The same conventions as `mmreason sft` (its checks, parsing and model loading do the work): arguments are TRL's
`ScriptArguments` (`dataset_name` = a folder of PUMA pair rows, e.g. what `mmreason data prepare math-puma`
writes, or a Hub id; `dataset_train_split`, ...) and `ModelConfig` (`model_name_or_path`, `dtype`,
`attn_implementation`, `use_peft`, `lora_*`, ...), plus every [`PUMAConfig`] field (`stage`, `alpha_kl`,
`lambda_kl`, `temperature_kl`, `loss_mode`, `kl_chunk_size`, `mm_tunable_parts`, and all of `TrainingArguments`).
Required keys are checked before torch is imported, unknown flags are refused, mistakes end in one line (`--debug`
for the traceback).

Several GPUs: `accelerate launch --config_file examples/accelerate/zero3.yaml -m mmreason.cli puma --config ...`.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from .errors import run_command
from .sft import _main as train_main
from .sft import train_and_save, training_parser

if TYPE_CHECKING:
    from trl import ModelConfig, ScriptArguments, TrlParser

    from ..train import PUMAConfig

USAGE = "mmreason puma [--config RECIPE.yaml] --model_name_or_path PATH --dataset_name PAIRS [--key value ...]"
ESSENTIAL = ("config", "model_name_or_path", "dataset_name", "dataset_config", "output_dir", "stage", "loss_mode")


def make_parser() -> TrlParser:
    """The parser `mmreason puma` uses; its help lists what to train, then mmreason's PUMA flags."""
    from transformers import TrainingArguments

    from ..train import PUMAConfig

    return training_parser("mmreason puma", PUMAConfig, TrainingArguments, USAGE, ESSENTIAL, "mmreason PUMA options")


def run(script_args: ScriptArguments, training_args: PUMAConfig, model_args: ModelConfig) -> str:
    """Load, train, save; returns the output folder."""
    return train_and_save("PUMATrainer", script_args, training_args, model_args)


def main(argv: list[str] | None = None) -> None:
    """Entry point of `mmreason puma`."""
    run_command("mmreason puma", partial(train_main, parser=make_parser, runner=run), argv)
