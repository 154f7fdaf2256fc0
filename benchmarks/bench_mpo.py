"""Preference-step throughput and peak memory: stock TRL `DPOTrainer` + stock LLaVA-OneVision vs `MPOTrainer`'s
forward modes; and the peak memory of PUMA's KL, chunked vs unchunked, at a 152k vocabulary.

Same tiny random model at the real SigLIP geometry (384 px tiles, patch 14: 729 tokens per tile, anyres_max_4),
same weights (copied into the stock class), same pairs in the same order, same batch size, same loss
(sigmoid 0.8 + bco_pair 0.2 + sft 1.0, beta 0.1; at step 1 the policy is the reference, so InternVL's reward shift
is 0 and MPO's loss is TRL's):
  1. TRL `DPOTrainer(loss_type=[...], loss_weights=[...])` + transformers' `LlavaOnevisionForConditionalGeneration`;
  2. `MPOTrainer` with `forward_mode` plain / vision_once / shared_prompt / packed.
Pairs: anyres images (0-2 per prompt), long shared prompts (a context paragraph + question), short or long answers.
Reported: pair tokens per second over the timed steps (tokens as TRL lays a pair out: 2 x prompt + chosen +
rejected, the same count for every run), per wall second and per CPU second of the process (the steadier number
on a shared machine), the peak RSS of the run's own process (each run is a fresh subprocess)
and its growth during training, and the first step's loss (must equal the stock one to 1e-5).

    python benchmarks/bench_mpo.py [--pairs 16] [--batch 4] [--steps 4] [--warmup 1] [--puma-positions 512]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

RUNS = ["stock", "plain", "vision_once", "shared_prompt", "packed"]
#: Image sizes where transformers' and LLaVA-NeXT's anyres unpad rules agree (the stock and mmreason batches are
#: checked equal before timing).
SIZES = [(640, 480), (1024, 768), (300, 900), (1500, 400), (384, 384), (800, 1200)]
LOSS = {"loss_type": ["sigmoid", "bco_pair", "sft"], "loss_weights": [0.8, 0.2, 1.0], "beta": 0.1}


def sentences(rng: random.Random, count: int) -> str:
    return " ".join(
        f"Fact {i}: quantity {rng.randint(1, 99)} grows by {rng.randint(1, 9)} units." for i in range(count)
    )


def make_pairs(count: int, seed: int = 0) -> list[dict]:
    """Preference rows in the agreed form (TRL vision-preference columns + id/source/answer_gt)."""
    from mmreason.testing import make_image

    rng, rows = random.Random(seed), []
    for index in range(count):
        kind = rng.random()
        num_images = 0 if kind < 0.15 else (2 if kind < 0.3 else 1)
        sizes = [rng.choice(SIZES) for _ in range(num_images)]
        if num_images == 2:
            sizes = [(384, 384), (640, 480)]
        question = sentences(rng, rng.randint(20, 40)) + " Which quantity ends largest?"
        content = [{"type": "image"} for _ in sizes] + [{"type": "text", "text": question}]
        long = rng.random() < 0.4
        chosen = sentences(rng, rng.randint(15, 30)) + " Answer: 3" if long else f"Answer: {rng.randint(1, 9)}"
        rejected = sentences(rng, rng.randint(15, 30)) + " Answer: 5" if rng.random() < 0.4 else "Answer: 5"
        rows.append({
            "id": str(index), "source": "bench", "answer_gt": "3",
            "prompt": [{"role": "user", "content": content}],
            "chosen": [{"role": "assistant", "content": [{"type": "text", "text": chosen}]}],
            "rejected": [{"role": "assistant", "content": [{"type": "text", "text": rejected}]}],
            "images": [make_image(w, h, seed=index + k) for k, (w, h) in enumerate(sizes)],
        })  # fmt: skip
    return rows


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def one_run(name: str, args: argparse.Namespace) -> dict:
    """Build and train one configuration in this process; return its measurements."""
    import datasets
    from transformers import TrainerCallback
    from trl import DPOConfig, DPOTrainer

    from mmreason.testing import build_tiny
    from mmreason.train.mpo_config import MPOConfig
    from mmreason.train.mpo_trainer import MPOTrainer
    from mmreason.train.preference_collators import collator_for
    from tests.model.stock import stock_copy, stock_processor

    class Meter(TrainerCallback):
        def __init__(self) -> None:
            self.seconds, self.cpu_seconds, self.start = 0.0, 0.0, None

        def on_step_begin(self, targs, state, control, **kwargs):
            timed = state.global_step >= args.warmup
            self.start = (time.perf_counter(), time.process_time()) if timed else None

        def on_step_end(self, targs, state, control, **kwargs):
            if self.start is not None:
                self.seconds += time.perf_counter() - self.start[0]
                self.cpu_seconds += time.process_time() - self.start[1]

    torch.manual_seed(0)
    rows = make_pairs(args.pairs)
    model, processor = build_tiny(real_geometry=True, seed=0)
    plain = collator_for("plain", processor)
    tokens = [int(plain([dict(row)])["attention_mask"].sum()) for row in rows]
    dataset = datasets.Dataset.from_list([dict(row, pair_tokens=t) for row, t in zip(rows, tokens)])
    common = dict(
        output_dir=tempfile.mkdtemp(prefix="bench_mpo_"), use_cpu=not torch.cuda.is_available(), bf16=False,
        report_to="none", per_device_train_batch_size=args.batch, max_steps=args.steps + args.warmup,
        learning_rate=5e-6, lr_scheduler_type="constant", warmup_steps=0, save_strategy="no", logging_steps=1000,
        dataloader_num_workers=0, seed=0, disable_tqdm=True, remove_unused_columns=False, max_length=None, **LOSS,
    )  # fmt: skip
    if name == "stock":
        stock, stock_proc = stock_copy(model).train(), stock_processor(processor)
        check = collator_for("plain", stock_proc)([dict(row) for row in rows])
        assert torch.equal(check["input_ids"], plain([dict(row) for row in rows])["input_ids"]), "token counts differ"
        trainer = DPOTrainer(
            model=stock, ref_model=stock_copy(model), args=DPOConfig(**common), train_dataset=dataset,
            processing_class=stock_proc,
        )  # fmt: skip
    else:
        trainer = MPOTrainer(
            model=model.train(), args=MPOConfig(**common, forward_mode=name), train_dataset=dataset,
            processing_class=processor,
        )  # fmt: skip
    counts, losses = [], []
    collate, compute_loss = trainer.data_collator, trainer.compute_loss

    def counting(examples):
        counts.append(sum(int(example["pair_tokens"]) for example in examples))
        return collate(examples)

    def recording(*a, **k):
        loss = compute_loss(*a, **k)
        losses.append(float(loss.detach().double()))
        return loss

    trainer.data_collator, trainer.compute_loss = counting, recording
    meter = Meter()
    trainer.add_callback(meter)
    setup_rss = _rss_mib()
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    trainer.train()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {
        "name": name, "tokens/s": sum(counts[args.warmup :]) / meter.seconds, "first_loss": losses[0],
        "tokens/cpu-s": sum(counts[args.warmup :]) / meter.cpu_seconds,
        "peak_rss_mib": peak, "train_growth_mib": peak - setup_rss, "timed_tokens": sum(counts[args.warmup :]),
    }  # fmt: skip
    if torch.cuda.is_available():
        result["cuda_peak_mib"] = torch.cuda.max_memory_allocated() / 2**20
    return result


def puma_memory(positions: int, chunk: int) -> list[dict]:
    """Peak tensor bytes of PUMA's KL forward + backward beyond the two logits inputs, 152,064 vocabulary, bf16."""
    from mmreason.train.puma_loss import kl_peak_bytes

    return [
        {"chunk_size": size, "peak_mib": kl_peak_bytes(152064, positions, size, torch.bfloat16) / 2**20}
        for size in (None, chunk)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=16)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--runs", default=",".join(RUNS), help="comma-separated subset of " + ",".join(RUNS))
    parser.add_argument("--puma-positions", type=int, default=512, help="answer positions for the KL memory check")
    parser.add_argument("--puma-chunk", type=int, default=128)
    parser.add_argument("--run", help=argparse.SUPPRESS)  # internal: one configuration, JSON on the last line
    args = parser.parse_args()
    if args.run:
        print(json.dumps(one_run(args.run, args)))
        return
    results = []
    for name in args.runs.split(","):
        command = [sys.executable, __file__, "--run", name, *sys.argv[1:]]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode:
            sys.exit(f"run {name} failed:\n{done.stderr[-4000:]}")
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(f"\n{args.pairs} pairs, batch {args.batch}, {args.steps} timed steps after {args.warmup} warm-up")
    print(
        f"{'run':14} {'tokens/s':>9} {'x stock':>8} {'tok/CPU-s':>10} {'x stock':>8} {'peak RSS MiB':>13} "
        f"{'train growth':>13} {'first loss':>12}"
    )
    base = results[0] if results[0]["name"] == "stock" else None
    for r in results:
        wall = r["tokens/s"] / base["tokens/s"] if base else float("nan")
        cpu = r["tokens/cpu-s"] / base["tokens/cpu-s"] if base else float("nan")
        print(
            f"{r['name']:14} {r['tokens/s']:>9,.0f} {wall:>7.2f}x {r['tokens/cpu-s']:>10,.0f} {cpu:>7.2f}x "
            f"{r['peak_rss_mib']:>13,.0f} {r['train_growth_mib']:>13,.0f} {r['first_loss']:>12.7f}"
        )
    if base:
        worst = max(abs(r["first_loss"] - base["first_loss"]) for r in results)
        print(f"\nlargest first-step loss difference vs stock: {worst:.2e} (goal <= 1e-5)")
    if args.puma_positions:
        print(f"\nPUMA KL, 152,064 vocabulary, {args.puma_positions} positions, bf16 (tensor bytes beyond inputs):")
        for r in puma_memory(args.puma_positions, args.puma_chunk):
            print(f"  chunk_size={r['chunk_size']!s:5} peak {r['peak_mib']:,.0f} MiB")


if __name__ == "__main__":
    main()
