"""`mmreason sft --config examples/recipes/si.yaml [--key value ...]`: rationale SFT, `trl sft`-style.

Arguments are TRL's `ScriptArguments` (`dataset_name`, `dataset_config`, `dataset_train_split`, ...) and
`ModelConfig` (`model_name_or_path`, `dtype`, `attn_implementation`, `use_peft`, `lora_*`, `load_in_4bit`, ...),
plus every [`RationaleSFTConfig`] field (`stage`, `mm_tunable_parts`, `mm_vision_tower_lr`,
`multimodal_packing`, and all of `SFTConfig`). Keys shared with `trl sft` mean the same thing.

Single process: `mmreason sft --config recipe.yaml`. Several GPUs or nodes: run it under `accelerate launch`
(`accelerate launch --config_file examples/accelerate/zero3.yaml -m mmreason.cli sft --config recipe.yaml`).
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .errors import CLIError, check_source, configure_logging, run_command, strict_parse, trl_parser

if TYPE_CHECKING:
    from trl import ModelConfig, ScriptArguments, TrlParser

    from ..train import RationaleSFTConfig

logger = logging.getLogger("mmreason.sft")

#: checked (in the command line and the --config file) before torch is imported or the Hub is contacted
REQUIRED = ("model_name_or_path", "dataset_name")
#: the first flags in `mmreason sft --help`: what to pass, then mmreason's own training options
USAGE = "mmreason sft [--config RECIPE.yaml] --model_name_or_path PATH --dataset_name DATA [--key value ...]"
ESSENTIAL = ("config", "model_name_or_path", "dataset_name", "dataset_config", "output_dir", "stage")


def make_parser() -> TrlParser:
    """The parser `mmreason sft` uses (also handy for scripts and tests); its help lists mmreason's flags first."""
    from trl import SFTConfig

    from ..train import RationaleSFTConfig

    return training_parser(
        "mmreason sft", RationaleSFTConfig, SFTConfig, USAGE, ESSENTIAL, "mmreason training options"
    )


def training_parser(
    prog: str, config_class: type, base_class: type, usage: str, essential: Sequence[str], options_title: str
) -> TrlParser:
    """A training command's parser: TRL's `ScriptArguments`, `config_class` and `ModelConfig`. Its help lists
    `essential` first ("what to train"), then, under `options_title`, the fields `config_class` adds to
    `base_class`."""
    from trl import ModelConfig, ScriptArguments

    parser = trl_parser((ScriptArguments, config_class, ModelConfig), prog=prog, usage=usage)
    inherited = {field.name for field in dataclasses.fields(base_class)}
    own = [field.name for field in dataclasses.fields(config_class) if field.name not in inherited]
    _group_first(parser, "what to train", essential)
    _group_first(parser, options_title, [name for name in own if name not in essential], position=1)
    return parser


def _group_first(parser: Any, title: str, dests: Any, position: int = 0) -> None:
    """Move the actions of `dests` into a new help group shown at `position` among the groups."""
    group = parser.add_argument_group(title)
    for dest in dests:
        for action in parser._actions:
            if action.dest == dest and action.option_strings and action not in group._group_actions:
                for other in parser._action_groups:
                    if action in other._group_actions:
                        other._group_actions.remove(action)
                group._group_actions.append(action)
    parser._action_groups.remove(group)
    parser._action_groups.insert(position, group)


def _given(argv: list[str], keys: tuple[str, ...] = REQUIRED) -> dict[str, Any]:
    """Values of `keys` in `argv` or in its `--config` YAML (without parsing anything else)."""
    given: dict[str, Any] = {}
    for index, token in enumerate(argv):
        flag, _, value = token.partition("=")
        name = flag.lstrip("-").replace("-", "_")
        if flag.startswith("--") and name in ("config", *keys):
            given[name] = value if value else (argv[index + 1] if index + 1 < len(argv) else None)
    config = given.pop("config", None)
    if config:
        import yaml

        try:
            with open(config) as file:
                values = yaml.safe_load(file) or {}
        except OSError as error:
            raise CLIError(f"--config {config}: {error.strerror}") from None
        except yaml.YAMLError as error:
            raise CLIError(f"--config {config}: invalid YAML ({' '.join(str(error).split())})") from None
        for name in keys:
            if name not in given and isinstance(values, dict) and values.get(name) is not None:
                given[name] = str(values[name])
    return given


def check_required(argv: list[str]) -> None:
    """Refuse a command line (with its --config file) that lacks a required key; imports neither torch nor TRL."""
    given = _given(argv)
    for name in REQUIRED:
        if not given.get(name):
            raise CLIError(f"--{name} is required (on the command line or in the --config file)")


def note_precision(argv: list[str], training_args: Any) -> None:
    """One info line when bf16 was left unset and is off (no bf16-capable accelerator): training runs in fp32."""
    if not (training_args.bf16 or training_args.fp16) and not _given(argv, ("bf16", "fp16")):
        logger.info("bf16 is off (no bf16-capable accelerator in use): training in fp32")


def cap_dataloader_workers(training_args: Any) -> None:
    """Never ask for more dataloader workers than this process may use CPUs (one info line when capped)."""
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if training_args.dataloader_num_workers > available:
        logger.info(
            "dataloader_num_workers %d -> %d (the CPUs available)", training_args.dataloader_num_workers, available
        )
        training_args.dataloader_num_workers = available


def load_model(model_args: ModelConfig, training_args: Any) -> tuple[Any, Any]:
    """The model (dtype, attention, QLoRA quantization and `model_init_kwargs` from the arguments) and processor."""
    import torch
    from accelerate import PartialState
    from trl import get_quantization_config

    from ..model import MMReasonForConditionalGeneration, MMReasonProcessor

    dtype = model_args.dtype if model_args.dtype in ("auto", None) else getattr(torch, model_args.dtype)
    quantization = get_quantization_config(model_args)
    model_kwargs = {
        "revision": model_args.model_revision,
        "attn_implementation": model_args.attn_implementation,
        "dtype": dtype,
        "quantization_config": quantization,
        "device_map": {"": PartialState().local_process_index} if quantization is not None else None,  # QLoRA
        **(training_args.model_init_kwargs or {}),
    }
    model = MMReasonForConditionalGeneration.from_pretrained(model_args.model_name_or_path, **model_kwargs)
    processor = MMReasonProcessor.from_pretrained(model_args.model_name_or_path, revision=model_args.model_revision)
    return model, processor


def peft_config_from(model_args: ModelConfig) -> Any:
    """mmreason's LoRA config from `ModelConfig`'s `use_peft` / `lora_*` flags (`None` without `use_peft`)."""
    from ..train import lora_config

    if not model_args.use_peft:
        return None
    peft_config = lora_config(
        r=model_args.lora_r,
        alpha=model_args.lora_alpha,
        dropout=model_args.lora_dropout,
        use_rslora=model_args.use_rslora,
        use_dora=model_args.use_dora,
    )
    if model_args.lora_target_modules:
        peft_config.target_modules = model_args.lora_target_modules
    return peft_config


def train_and_save(
    trainer_name: str, script_args: ScriptArguments, training_args: Any, model_args: ModelConfig
) -> str:
    """Load the model and the dataset, train with `mmreason.train.<trainer_name>` (any of mmreason's trainers: they
    take the same arguments), save (and push); returns the output folder."""
    import datasets

    from .. import train

    model, processor = load_model(model_args, training_args)
    dataset = datasets.load_dataset(
        script_args.dataset_name, script_args.dataset_config, streaming=script_args.dataset_streaming
    )
    peft_config = peft_config_from(model_args)
    eval_split = script_args.dataset_test_split if training_args.eval_strategy != "no" else None
    trainer = getattr(train, trainer_name)(
        model=model,
        args=training_args,
        train_dataset=dataset[script_args.dataset_train_split],
        eval_dataset=dataset[eval_split] if eval_split else None,
        processing_class=processor,
        peft_config=peft_config,
    )
    trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
    trainer.save_model(training_args.output_dir)
    if training_args.push_to_hub:
        trainer.push_to_hub(dataset_name=script_args.dataset_name)
    return training_args.output_dir


def run(script_args: ScriptArguments, training_args: RationaleSFTConfig, model_args: ModelConfig) -> str:
    """Load, train, save; returns the output folder."""
    return train_and_save("RationaleSFTTrainer", script_args, training_args, model_args)


def _main(argv: list[str], parser: Callable[[], Any] = make_parser, runner: Callable[..., str] = run) -> None:
    """Check, parse, train (`runner`) and log where the model went; the other training commands pass their own
    `parser` and `runner`."""
    if "-h" not in argv and "--help" not in argv:
        check_required(argv)
    script_args, training_args, model_args = strict_parse(parser(), argv)
    configure_logging()
    check_source(model_args.model_name_or_path, "--model_name_or_path")
    check_source(script_args.dataset_name, "--dataset_name", kind="dataset")
    note_precision(argv, training_args)
    cap_dataloader_workers(training_args)
    out = runner(script_args, training_args, model_args)
    logger.info("Saved the model to %s", out)


def main(argv: list[str] | None = None) -> None:
    """Entry point of `mmreason sft`."""
    run_command("mmreason sft", _main, argv)
