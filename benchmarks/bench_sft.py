"""Train-step throughput of rationale SFT: TRL `SFTTrainer` + stock LLaVA-OneVision vs `RationaleSFTTrainer`.

Same tiny random model at the real SigLIP geometry (384 px tiles, patch 14: 729 tokens per tile, anyres_max_4),
same weights, same rows in the same order, same batch size, all in one run:
  1. TRL `SFTTrainer` + transformers' `LlavaOnevisionForConditionalGeneration` (TRL's vision collator, padded);
  2. `RationaleSFTTrainer`, padded batches (equal batching);
  3. `RationaleSFTTrainer` with `multimodal_packing` (each batch one padding-free row).
The mix: anyres single images of several sizes and short or long rationales, text-only rows, and
2-3-image rows. Reported: real (non-pad) tokens per second over the timed steps and the padding fraction
(pad positions / all positions).

    python benchmarks/bench_sft.py [--rows 48] [--batch 4] [--steps 10] [--warmup 2]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import datasets
import torch
from transformers import TrainerCallback
from trl import SFTConfig, SFTTrainer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mmreason.data import FEATURES
from mmreason.testing import build_tiny, make_image
from mmreason.train import RationaleSFTConfig, RationaleSFTTrainer
from tests.model.stock import stock_copy, stock_processor

SIZES = [(640, 480), (1024, 768), (300, 900), (1500, 400), (384, 384), (800, 1200), (200, 150)]


def rationale(rng: random.Random, long: bool) -> str:
    steps = rng.randint(25, 60) if long else rng.randint(2, 6)
    return (
        " ".join(f"Step {i}: the value changes by {rng.randint(1, 99)} units." for i in range(steps)) + "\nAnswer: 7"
    )


def make_rows(count: int, seed: int = 0) -> list[dict]:
    rng, rows = random.Random(seed), []
    for index in range(count):
        kind = rng.random()
        images = []
        if kind < 0.2:
            parts = [{"type": "text", "text": "Solve 3x + 5 = 20 and explain."}]
        elif kind < 0.35:
            images = [
                make_image(rng.randint(200, 700), rng.randint(200, 700), seed=index + k)
                for k in range(rng.choice([2, 3]))
            ]
            parts = [{"type": "image", "text": None} for _ in images] + [{"type": "text", "text": "Which differs?"}]
        else:
            images = [make_image(*rng.choice(SIZES), seed=index)]
            parts = [{"type": "image", "text": None}, {"type": "text", "text": "What is the value of x?"}]
        answer = rationale(rng, long=rng.random() < 0.4)
        rows.append({
            "id": str(index), "source": "bench", "category": "", "quality_group": "", "images": images, "videos": [],
            "messages": [{"role": "user", "content": parts},
                         {"role": "assistant", "content": [{"type": "text", "text": answer}]}],
        })  # fmt: skip
    return rows


class Meter(TrainerCallback):
    """Wall time of steps after `warmup`, and the tokens of the batches the collator built for them."""

    def __init__(self, warmup: int):
        self.warmup, self.seconds, self.start = warmup, 0.0, None

    def on_step_begin(self, args, state, control, **kwargs):
        self.start = time.perf_counter() if state.global_step >= self.warmup else None

    def on_step_end(self, args, state, control, **kwargs):
        if self.start is not None:
            self.seconds += time.perf_counter() - self.start


def counting(collator, counts: list, pad_id: int):
    def collate(examples):
        batch = collator(examples)
        positions = batch["input_ids"].numel()
        real = batch["attention_mask"].sum() if "attention_mask" in batch else (batch["input_ids"] != pad_id).sum()
        counts.append((int(real), positions))
        return batch

    return collate


def run(name: str, trainer, warmup: int, counts: list) -> dict:
    meter = Meter(warmup)
    trainer.add_callback(meter)
    trainer.data_collator = counting(trainer.data_collator, counts, trainer.processing_class.tokenizer.pad_token_id)
    trainer.train()
    timed = counts[warmup:]  # with dataloader_num_workers=0 batches are built in step order
    real, positions = sum(r for r, _ in timed), sum(p for _, p in timed)
    return {"name": name, "tokens/s": real / meter.seconds, "padding": 1 - real / positions, "real": real}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=48)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(torch.get_num_threads())
    dataset = datasets.Dataset.from_list(make_rows(args.rows), features=FEATURES)
    common = dict(
        output_dir="/tmp/bench_sft", use_cpu=not torch.cuda.is_available(), bf16=torch.cuda.is_available(),
        report_to="none", per_device_train_batch_size=args.batch, max_steps=args.steps + args.warmup,
        learning_rate=1e-5, save_strategy="no", logging_steps=1000, dataloader_num_workers=0, seed=0,
        gradient_checkpointing=False, disable_tqdm=True,
    )  # fmt: skip
    results = []
    model, processor = build_tiny(real_geometry=True, seed=0)
    stock = stock_copy(model).train()
    trl = SFTTrainer(
        model=stock, args=SFTConfig(**common, max_length=None, assistant_only_loss=True),
        train_dataset=dataset, processing_class=stock_processor(processor),
    )  # fmt: skip
    results.append(run("TRL SFTTrainer + stock LLaVA-OV", trl, args.warmup, []))
    for packing in (False, True):
        model, processor = build_tiny(real_geometry=True, seed=0)
        ours = RationaleSFTTrainer(
            model=model, args=RationaleSFTConfig(**common, max_length=None, multimodal_packing=packing),
            train_dataset=dataset, processing_class=processor,
        )  # fmt: skip
        results.append(run(f"RationaleSFTTrainer, {'packed' if packing else 'padded'}", ours, args.warmup, []))
    print(f"\n{args.rows} rows, batch {args.batch}, {args.steps} timed steps after {args.warmup} warm-up steps")
    print(f"{'trainer':36} {'tokens/s':>10} {'padding':>8} {'real tokens':>12}")
    for r in results:
        print(f"{r['name']:36} {r['tokens/s']:>10,.0f} {r['padding']:>8.1%} {r['real']:>12,}")
    base = results[0]["tokens/s"]
    print(f"\npadded vs TRL+stock (equal batching): {results[1]['tokens/s'] / base:.2f}x")
    print(f"packed vs TRL+stock: {results[2]['tokens/s'] / base:.2f}x (goal >= 1.3x)")
    print(f"packed vs padded: {results[2]['tokens/s'] / results[1]['tokens/s']:.2f}x")


if __name__ == "__main__":
    main()
