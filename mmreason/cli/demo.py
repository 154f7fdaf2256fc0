"""`mmreason demo`: the embedded default job, end to end on real code paths, offline, in about a minute on CPU.

1. build a tiny random mmreason model and its processor (`mmreason.testing`, no Hub);
2. fine-tune it with TRL's `SFTTrainer` on the bundled sample rows (assistant-only loss from the chat
   template's generation markers; single-image, multi-image and text-only rows in one run);
3. save it, reload it with `AutoModelForImageTextToText` / `AutoProcessor`, and answer the sample questions.

It prints transformers' own progress bar while training (no per-step loss dicts: `logging_strategy="no"`), the
sample loss before and after, then each shown row's image path, question, expected answer and the model's answer,
and what the run shows: the plumbing works; a random tiny model fine-tuned for a few steps does not reason.
"""

from __future__ import annotations

import logging
import textwrap
import time
from dataclasses import dataclass, field
from typing import Any

import datasets
import torch
from transformers import AutoModelForImageTextToText, AutoProcessor
from trl import SFTConfig, SFTTrainer

from ..data import load_sample_dataset
from ..testing import build_tiny
from .errors import configure_logging, run_command, strict_parse, trl_parser

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
    examples: int = field(default=3, metadata={"help": "Sample rows to answer after training."})
    seed: int = field(default=0, metadata={"help": "Random seed."})


WHAT_IT_SHOWS = (
    "What this shows: the plumbing, end to end — a random {parameters:,}-parameter model fine-tuned with TRL for "
    "{steps} steps on {rows} rows, saved, reloaded with AutoModelForImageTextToText and asked the sample questions. "
    "Such a model cannot reason, so its answers are gibberish; `mmreason quickstart` runs the whole reasoning recipe "
    "(SFT, MPO, PUMA; work in progress)."
)


def sample_loss(trainer: SFTTrainer, dataset: Any) -> float:
    """Mean loss of the trainer's model over `dataset` (no logging, no progress bar)."""
    losses = [
        trainer.prediction_step(trainer.model, batch, prediction_loss_only=True)[0].item()
        for batch in trainer.get_eval_dataloader(dataset)
    ]
    return sum(losses) / len(losses)


def _question(row: dict[str, Any]) -> tuple[list[dict[str, Any]], str, str]:
    """The row's first user turn with its images filled in, its question text and the expected (assistant) answer."""
    images = iter(row["images"])
    user, answer = row["messages"][0], row["messages"][1]
    content = [
        {"type": "image", "image": next(images)} if part["type"] == "image" else part for part in user["content"]
    ]
    question = " ".join(part["text"] for part in user["content"] if part["type"] == "text")
    return [dict(user, content=content)], question, " ".join(part["text"] for part in answer["content"])


def run(args: DemoArguments) -> dict:
    """Run the demo; returns a summary (losses, the answered examples, timings)."""
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
        per_device_eval_batch_size=args.per_device_train_batch_size,
        learning_rate=args.learning_rate,
        lr_scheduler_type="cosine",
        warmup_steps=0.03,
        weight_decay=0.0,
        max_length=None,  # never truncate through image placeholders
        assistant_only_loss=True,
        activation_checkpointing=False,
        use_cpu=not on_gpu,
        bf16=on_gpu and torch.cuda.is_bf16_supported(),
        logging_strategy="no",  # transformers' progress bar only, no loss dict per step
        disable_tqdm=False,
        save_strategy="no",
        report_to="none",
        seed=args.seed,
    )
    trainer = SFTTrainer(model=model, args=config, train_dataset=dataset, processing_class=processor)
    first_loss = sample_loss(trainer, dataset)
    trainer.train()
    last_loss = sample_loss(trainer, dataset)
    trainer.save_model(args.output_dir)
    processor.save_pretrained(args.output_dir)

    reloaded = AutoModelForImageTextToText.from_pretrained(args.output_dir).eval()
    reloaded_processor = AutoProcessor.from_pretrained(args.output_dir)
    paths = dataset.cast_column("images", datasets.List(datasets.Image(decode=False)))["images"]
    examples = []
    for row, images in zip(dataset.select(range(min(args.examples, len(dataset)))), paths, strict=False):
        messages, question, expected = _question(row)
        inputs = reloaded_processor.apply_chat_template(
            messages, add_generation_prompt=True, tokenize=True, return_dict=True, return_tensors="pt"
        )
        with torch.no_grad():
            output = reloaded.generate(**inputs, max_new_tokens=args.max_new_tokens, do_sample=False)
        answer = reloaded_processor.decode(output[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
        examples.append(
            {
                "images": [image["path"] for image in images],
                "question": question,
                "expected": expected,
                "answer": answer,
                "prompt_tokens": int(inputs["input_ids"].shape[1]),
                "image_tokens": int((inputs["input_ids"] == reloaded.config.image_token_index).sum()),
            }
        )
    return {
        "parameters": sum(p.numel() for p in reloaded.parameters()),
        "steps": trainer.state.global_step,
        "rows": len(dataset),
        "first_loss": first_loss,
        "last_loss": last_loss,
        "examples": examples,
        "output_dir": args.output_dir,
        "seconds": round(time.perf_counter() - start, 1),
    }


def report(summary: dict) -> str:
    """The demo's printout: the run in one line, each example side by side, what the run shows."""
    lines = [
        "",
        "mmreason demo: {parameters:,}-parameter model, {steps} SFT steps; loss on the sample rows "
        "{first_loss:.3f} -> {last_loss:.3f}".format(**summary),
        "  checkpoint: {output_dir} (reloaded with AutoModelForImageTextToText); took {seconds}s".format(**summary),
    ]
    for number, example in enumerate(summary["examples"], start=1):
        lines.append("")
        fields = {
            "image": ", ".join(example["images"]) or "(none)",
            "question": example["question"],
            "expected": example["expected"],
            "model": repr(example["answer"]),
        }
        for name, value in fields.items():
            label = f"[{number}] {name:<9}" if name == "image" else f"    {name:<9}"
            value = " ".join(value.split())
            lines.append(f"{label}{value if len(value) <= 140 else value[:137] + '...'}")
    lines += ["", textwrap.fill(WHAT_IT_SHOWS.format(**summary), width=116)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """`mmreason demo [--config demo.yaml] [--max_steps N] ...`."""
    run_command("mmreason demo", _main, argv)


def _main(argv: list[str]) -> None:
    (args,) = strict_parse(trl_parser((DemoArguments,), prog="mmreason demo"), argv)
    configure_logging()
    print(report(run(args)), flush=True)
