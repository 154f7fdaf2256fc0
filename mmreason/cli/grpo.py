"""`mmreason grpo --config examples/recipes/grpo_procedural.yaml [--key value ...]`: GRPO with verifiable rewards.

The same conventions as `mmreason sft` (its checks, parsing and model loading do the work): TRL's `ScriptArguments`
(`dataset_name` = a folder or Hub id of prompt rows — `prompt`, `images` and the reward's columns, e.g. the
procedural set's `prompts_train` config), `ModelConfig` (`model_name_or_path`, `dtype`, `use_peft`, `lora_*`, ...),
and every [`ReasoningGRPOConfig`] field: the reward (`accuracy_reward`: a benchmark whose strict scorer judges,
`format_reward_weight`), TRL's GRPO fields (`num_generations`, `max_completion_length`, `beta`, `loss_type`,
`temperature`, `use_vllm` / `vllm_mode="server"` for a vLLM server in its own environment, ...), `mm_tunable_parts`
and all of `TrainingArguments`.

Several GPUs: `accelerate launch --config_file examples/accelerate/zero3.yaml -m mmreason.cli grpo --config ...`.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from .errors import run_command
from .sft import _main as train_main
from .sft import train_and_save, training_parser

if TYPE_CHECKING:
    from trl import ModelConfig, ScriptArguments, TrlParser

    from ..train import ReasoningGRPOConfig

USAGE = "mmreason grpo [--config RECIPE.yaml] --model_name_or_path PATH --dataset_name PROMPTS [--key value ...]"
ESSENTIAL = ("config", "model_name_or_path", "dataset_name", "dataset_config", "output_dir", "accuracy_reward",
             "format_reward_weight", "num_generations", "max_completion_length", "beta")  # fmt: skip


def make_parser() -> TrlParser:
    """The parser `mmreason grpo` uses; its help lists what to train, then the GRPO and mmreason flags."""
    from transformers import TrainingArguments

    from ..train import ReasoningGRPOConfig

    return training_parser(
        "mmreason grpo", ReasoningGRPOConfig, TrainingArguments, USAGE, ESSENTIAL, "GRPO and mmreason options"
    )


def run(script_args: ScriptArguments, training_args: ReasoningGRPOConfig, model_args: ModelConfig) -> str:
    """Load, train, save; returns the output folder."""
    return train_and_save("ReasoningGRPOTrainer", script_args, training_args, model_args)


def main(argv: list[str] | None = None) -> None:
    """Entry point of `mmreason grpo`."""
    run_command("mmreason grpo", partial(train_main, parser=make_parser, runner=run), argv)
