"""`mmreason quickstart [--preset tiny|small] [--output_dir DIR] [--seed N] [--<preset field> value ...]`.

The whole recipe, offline: a random model of the preset's geometry, rationale SFT on the procedural set, MMPR
pairs from its own samples, MPO, Math-PUMA alignment, held-out evaluation after every stage, and a report
(`results.md`, `accuracy.png`, `losses.png`). See `examples/docs/quickstart.md`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from .errors import configure_logging, run_command, strict_parse, trl_parser


@dataclass
class QuickstartArguments:
    """Arguments of `mmreason quickstart` (preset fields left unset keep the preset's value)."""

    preset: str = field(default="tiny", metadata={"help": "tiny (the 10-minute CPU default) or small."})
    output_dir: str = field(default="mmreason-quickstart", metadata={"help": "Data, models, evals and report."})
    seed: int = field(default=0, metadata={"help": "Data, model and training seed."})
    n_train: int | None = field(default=None, metadata={"help": "Training problems per level."})
    n_test: int | None = field(default=None, metadata={"help": "Held-out problems per level and view."})
    n_pair_questions: int | None = field(default=None, metadata={"help": "Questions sampled for MMPR pairs."})
    num_samples: int | None = field(default=None, metadata={"help": "Answers sampled per question."})
    sft_steps: int | None = field(default=None, metadata={"help": "SFT optimizer steps."})
    mpo_steps: int | None = field(default=None, metadata={"help": "MPO optimizer steps."})
    puma_steps: int | None = field(default=None, metadata={"help": "PUMA optimizer steps."})
    batch_size: int | None = field(default=None, metadata={"help": "Rows per optimizer step."})
    max_new_tokens: int | None = field(default=None, metadata={"help": "Generation budget."})
    families: list[str] | None = field(default=None, metadata={"help": "Procedural families (default: all)."})
    grpo_steps: int | None = field(default=None, metadata={"help": "Optional GRPO stage steps (0: none)."})
    vocab_size: int | None = field(default=None, metadata={"help": "BPE vocabulary size (0: byte-level)."})
    threads: int | None = field(default=None, metadata={"help": "torch threads (preset: 1; 0: torch's default)."})


def _main(argv: list[str]) -> None:
    (args,) = strict_parse(trl_parser((QuickstartArguments,), prog="mmreason quickstart"), argv)
    configure_logging()
    from ..quickstart import get_preset, run_quickstart

    overrides = {f.name: getattr(args, f.name) for f in fields(args) if f.name not in ("preset", "output_dir", "seed")}
    if overrides["families"] is not None:
        overrides["families"] = tuple(overrides["families"])
    preset = get_preset(args.preset).with_overrides(**overrides)
    results = run_quickstart(preset, args.output_dir, seed=args.seed)
    print(results["summary"])


def main(argv: list[str] | None = None) -> None:
    """Entry point of `mmreason quickstart`."""
    run_command("mmreason quickstart", _main, argv)
