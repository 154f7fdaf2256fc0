"""`mmreason sft --config examples/recipes/si.yaml [--key value ...]`: rationale SFT, `trl sft`-style.

Arguments are TRL's `ScriptArguments` (`dataset_name`, `dataset_config`, `dataset_train_split`, ...) and
`ModelConfig` (`model_name_or_path`, `dtype`, `attn_implementation`, `use_peft`, `lora_*`, `load_in_4bit`, ...),
plus every [`RationaleSFTConfig`] field (`stage`, `mm_tunable_parts`, `mm_vision_tower_lr`,
`multimodal_packing`, and all of `SFTConfig`). Keys shared with `trl sft` mean the same thing.

Single process: `mmreason sft --config recipe.yaml`. Several GPUs or nodes: run it under `accelerate launch`
(`accelerate launch --config_file examples/accelerate/zero3.yaml -m mmreason.cli sft --config recipe.yaml`).
"""

from __future__ import annotations

import logging

from trl import ModelConfig, ScriptArguments, TrlParser, get_quantization_config

from ..train import RationaleSFTConfig

logger = logging.getLogger("mmreason.sft")


def make_parser() -> TrlParser:
    """The parser `mmreason sft` uses (also handy for scripts and tests)."""
    return TrlParser((ScriptArguments, RationaleSFTConfig, ModelConfig), prog="mmreason sft")


def run(script_args: ScriptArguments, training_args: RationaleSFTConfig, model_args: ModelConfig) -> str:
    """Load, train, save; returns the output folder."""
    import datasets
    import torch
    from accelerate import PartialState

    from ..model import MMReasonForConditionalGeneration, MMReasonProcessor
    from ..train import RationaleSFTTrainer, lora_config

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
    dataset = datasets.load_dataset(
        script_args.dataset_name, script_args.dataset_config, streaming=script_args.dataset_streaming
    )
    peft_config = None
    if model_args.use_peft:
        peft_config = lora_config(
            r=model_args.lora_r,
            alpha=model_args.lora_alpha,
            dropout=model_args.lora_dropout,
            use_rslora=model_args.use_rslora,
            use_dora=model_args.use_dora,
        )
        if model_args.lora_target_modules:
            peft_config.target_modules = model_args.lora_target_modules
    eval_split = script_args.dataset_test_split if training_args.eval_strategy != "no" else None
    trainer = RationaleSFTTrainer(
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


def main(argv: list[str] | None = None) -> None:
    """Entry point of `mmreason sft`."""
    script_args, training_args, model_args = make_parser().parse_args_and_config(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    out = run(script_args, training_args, model_args)
    logger.info("Saved the model to %s", out)
