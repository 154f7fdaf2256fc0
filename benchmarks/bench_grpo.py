"""GRPO step throughput and peak memory: stock TRL `GRPOTrainer` vs `ReasoningGRPOTrainer`, where stock works
(single-image prompts, beta = 0), same tiny random model and weights, same prompts, same seed, same settings.

Each run is a fresh subprocess: build the model (`mmreason.testing.build_tiny`, seed 0), 16 single-image prompt
rows (procedural bar charts, text-rich view), `num_generations` completions per prompt of `max_completion_length`
tokens (greedy-free sampling at temperature 1, seeded), the format reward; `warmup` steps, then `steps` timed steps
(generation + loss + optimizer). Reported: steps per wall second and per CPU second (the steadier on a shared
machine), peak RSS of the process, and the ratio mmreason / stock (goal >= 1.0: the fixes cost nothing).

    python benchmarks/bench_grpo.py [--steps 6] [--warmup 1] [--generations 4] [--tokens 24]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

RUNS = ["stock", "mmreason"]


def run_one(kind: str, steps: int, warmup: int, generations: int, tokens: int, out: str) -> dict:
    import datasets
    import torch
    from transformers import TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    from mmreason.data import procedural
    from mmreason.rewards import FormatReward
    from mmreason.testing import build_tiny
    from mmreason.train import ReasoningGRPOConfig, ReasoningGRPOTrainer

    torch.manual_seed(0)
    model, processor = build_tiny(seed=0)
    problems = procedural.generate(16, seed=0, level="easy", families=["bars"])
    rows = datasets.Dataset.from_list([procedural.prompt_row(p, "text") for p in problems])
    common = dict(
        output_dir=out, use_cpu=True, bf16=False, max_steps=warmup + steps, per_device_train_batch_size=4,
        num_generations=generations, max_completion_length=tokens, report_to="none", beta=0.0, seed=0,
        gradient_checkpointing=False, learning_rate=1e-4, logging_steps=1, save_strategy="no", temperature=1.0,
        dataloader_num_workers=0,
    )  # fmt: skip
    marks: list[tuple[float, float]] = []

    class Clock(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            marks.append((time.perf_counter(), time.process_time()))

    if kind == "stock":
        trainer = GRPOTrainer(model=model, reward_funcs=[FormatReward()], args=GRPOConfig(**common),
                              train_dataset=rows, processing_class=processor, callbacks=[Clock()])  # fmt: skip
    else:
        trainer = ReasoningGRPOTrainer(model=model, reward_funcs=[FormatReward()],
                                       args=ReasoningGRPOConfig(**common), train_dataset=rows,
                                       processing_class=processor, callbacks=[Clock()])  # fmt: skip
    trainer.train()
    (wall0, cpu0), (wall1, cpu1) = marks[warmup - 1], marks[-1]
    return {
        "run": kind, "steps_per_s": steps / (wall1 - wall0), "steps_per_cpu_s": steps / (cpu1 - cpu0),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "first_loss": trainer.state.log_history[0].get("loss"),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--generations", type=int, default=4)
    parser.add_argument("--tokens", type=int, default=24)
    parser.add_argument("--one", choices=RUNS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        import tempfile

        with tempfile.TemporaryDirectory() as out:
            print(json.dumps(run_one(args.one, args.steps, args.warmup, args.generations, args.tokens, out)))
        return
    results = {}
    for kind in RUNS:
        flags = ["--steps", str(args.steps), "--warmup", str(args.warmup), "--generations", str(args.generations),
                 "--tokens", str(args.tokens), "--one", kind]  # fmt: skip
        done = subprocess.run([sys.executable, __file__, *flags], capture_output=True, text=True, check=True)
        results[kind] = json.loads(done.stdout.strip().splitlines()[-1])
        print(json.dumps(results[kind]))
    stock, ours = results["stock"], results["mmreason"]
    print(f"steps/s: mmreason {ours['steps_per_s']:.2f} vs stock {stock['steps_per_s']:.2f} "
          f"({ours['steps_per_s'] / stock['steps_per_s']:.2f}x wall, "
          f"{ours['steps_per_cpu_s'] / stock['steps_per_cpu_s']:.2f}x per CPU second); peak RSS "
          f"{ours['peak_rss_mib']:.0f} vs {stock['peak_rss_mib']:.0f} MiB "
          f"({ours['peak_rss_mib'] / stock['peak_rss_mib']:.2f}x); first loss {ours['first_loss']} vs "
          f"{stock['first_loss']}")  # fmt: skip


if __name__ == "__main__":
    main()
