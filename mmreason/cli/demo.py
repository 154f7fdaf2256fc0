"""`mmreason demo`: the embedded default job, end to end on real code paths, offline, in about a minute on CPU.

1. build a tiny random mmreason model and its processor (`mmreason.testing`, no Hub);
2. fine-tune it with TRL's `SFTTrainer` on the bundled sample rows (assistant-only loss from the chat
   template's generation markers; single-image, multi-image and text-only rows in one run);
3. save it, reload it with `AutoModelForImageTextToText` / `AutoProcessor`, and answer a question about an image.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import torch
from transformers import AutoModelForImageTextToText, AutoProcessor
from trl import SFTConfig, SFTTrainer, TrlParser

from ..data import load_sample_dataset
from ..testing import build_tiny

logger = logging.getLogger("mmreason.demo")


@dataclass
class DemoArguments:
    """Arguments of `mmreason demo`."""

    output_dir: str = field(default="mmreason-demo", metadata={"help": "Where the trained checkpoint goes."})
    max_steps: int = field(default=120, metadata={"help": "Optimizer steps."})
    learning_rate: float = field(default=3e-3, metadata={"help": "Peak learning rate (cosine schedule)."})
    per_device_train_batch_size: int = field(default=2, metadata={"help": "Rows per step."})
    real_geometry: bool = field(default=False, metadata={"help": "384 px / patch-14 tiles (729 tokens each)."})
    vision_aspect_ratio: str = field(default="anyres_max_4", metadata={"help": "anyres_max_N of the model."})
    max_new_tokens: int = field(default=40, metadata={"help": "Tokens to generate after training."})
    seed: int = field(default=0, metadata={"help": "Random seed."})


def run(args: DemoArguments) -> dict:
    """Run the demo; returns a summary (losses, generated text, timings)."""
    start = time.perf_counter()
    model, processor = build_tiny(
        real_geometry=args.real_geometry, vision_aspect_ratio=args.vision_aspect_ratio, seed=args.seed
    )
    dataset = load_sample_dataset()
    on_gpu = torch.cuda.is_available()
    config = SFTConfig(
        output_dir=args.output_dir,
        max_steps=args.max_steps,
        per_device_train_batch_size=args.per_device_train_batch_size,
        learning_rate=args.learning_rate,
        lr_scheduler_type="cosine",
        warmup_steps=0.03,
        weight_decay=0.0,
        max_length=None,  # never truncate through image placeholders
        assistant_only_loss=True,
        activation_checkpointing=False,
        use_cpu=not on_gpu,
        bf16=on_gpu and torch.cuda.is_bf16_supported(),
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        seed=args.seed,
    )
    trainer = SFTTrainer(model=model, args=config, train_dataset=dataset, processing_class=processor)
    trainer.train()
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    trainer.save_model(args.output_dir)
    processor.save_pretrained(args.output_dir)

    reloaded = AutoModelForImageTextToText.from_pretrained(args.output_dir).eval()
    reloaded_processor = AutoProcessor.from_pretrained(args.output_dir)
    row = dataset[0]
    question = [
        dict(
            row["messages"][0],
            content=[
                {"type": "image", "image": row["images"][0]},
                {"type": "text", "text": row["messages"][0]["content"][1]["text"]},
            ],
        )
    ]
    inputs = reloaded_processor.apply_chat_template(
        question, add_generation_prompt=True, tokenize=True, return_dict=True, return_tensors="pt"
    )
    with torch.no_grad():
        output = reloaded.generate(**inputs, max_new_tokens=args.max_new_tokens, do_sample=False)
    answer = reloaded_processor.decode(output[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
    return {
        "parameters": sum(p.numel() for p in reloaded.parameters()),
        "steps": trainer.state.global_step,
        "first_loss": losses[0],
        "last_loss": losses[-1],
        "prompt_tokens": int(inputs["input_ids"].shape[1]),
        "image_tokens": int((inputs["input_ids"] == reloaded.config.image_token_index).sum()),
        "answer": answer,
        "output_dir": args.output_dir,
        "seconds": round(time.perf_counter() - start, 1),
    }


def main(argv: list[str] | None = None) -> None:
    """`mmreason demo [--config demo.yaml] [--max_steps N] ...`."""
    (args,) = TrlParser((DemoArguments,), prog="mmreason demo").parse_args_and_config(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    summary = run(args)
    logger.info(
        "\nmmreason demo: %(parameters)s-parameter model, %(steps)s SFT steps, loss %(first_loss).3f -> "
        "%(last_loss).3f\n  checkpoint: %(output_dir)s (reloaded with AutoModelForImageTextToText)\n"
        "  prompt: %(prompt_tokens)s tokens (%(image_tokens)s image tokens)\n  generated: %(answer)r\n"
        "  took %(seconds)ss",
        summary,
    )
