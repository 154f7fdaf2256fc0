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

import dataclasses
from functools import partial
from typing import TYPE_CHECKING

from .errors import run_command, trl_parser
from .sft import _group_first, load_model, peft_config_from
from .sft import _main as train_main

if TYPE_CHECKING:
    from trl import ModelConfig, ScriptArguments, TrlParser

    from ..train import PUMAConfig

USAGE = "mmreason puma [--config RECIPE.yaml] --model_name_or_path PATH --dataset_name PAIRS [--key value ...]"
ESSENTIAL = ("config", "model_name_or_path", "dataset_name", "dataset_config", "output_dir", "stage", "loss_mode")


def make_parser() -> TrlParser:
    """The parser `mmreason puma` uses; its help lists what to train, then mmreason's PUMA flags."""
    from transformers import TrainingArguments
    from trl import ModelConfig, ScriptArguments

    from ..train import PUMAConfig

    parser = trl_parser((ScriptArguments, PUMAConfig, ModelConfig), prog="mmreason puma", usage=USAGE)
    inherited = {field.name for field in dataclasses.fields(TrainingArguments)}
    own = [field.name for field in dataclasses.fields(PUMAConfig) if field.name not in inherited]
    _group_first(parser, "what to train", ESSENTIAL)
    _group_first(parser, "mmreason PUMA options", [name for name in own if name not in ESSENTIAL], position=1)
    return parser


def run(script_args: ScriptArguments, training_args: PUMAConfig, model_args: ModelConfig) -> str:
    """Load, train, save; returns the output folder."""
    import datasets

    from ..train import PUMATrainer

    model, processor = load_model(model_args, training_args)
    dataset = datasets.load_dataset(
        script_args.dataset_name, script_args.dataset_config, streaming=script_args.dataset_streaming
    )
    eval_split = script_args.dataset_test_split if training_args.eval_strategy != "no" else None
    trainer = PUMATrainer(
        model=model,
        args=training_args,
        train_dataset=dataset[script_args.dataset_train_split],
        eval_dataset=dataset[eval_split] if eval_split else None,
        processing_class=processor,
        peft_config=peft_config_from(model_args),
    )
    trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
    trainer.save_model(training_args.output_dir)
    if training_args.push_to_hub:
        trainer.push_to_hub(dataset_name=script_args.dataset_name)
    return training_args.output_dir


def main(argv: list[str] | None = None) -> None:
    """Entry point of `mmreason puma`."""
    run_command("mmreason puma", partial(train_main, parser=make_parser, runner=run), argv)
