"""The `mmreason` command line: `mmreason <command> [--config file.yaml] [--key value ...] [--debug]`.

Each command is a module with a `main(argv)` that parses its own dataclass arguments with TRL's `TrlParser`
(so `--config recipe.yaml` works as with `trl sft`); this module only dispatches, and imports nothing heavy, so
`mmreason --help` starts at once. Mistakes end in one line, `mmreason <cmd>: error: ...` (see `errors`).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from .. import __version__
from .errors import closest

COMMANDS = {
    "quickstart": ("mmreason.cli.quickstart", "The recipe on a CPU: SFT, MMPR pairs, MPO, PUMA, evaluated."),
    "demo": ("mmreason.cli.demo", "Build a tiny model, fine-tune it on the bundled sample rows, reload it, generate."),
    "convert": ("mmreason.cli.convert", "Convert checkpoints between mmreason, llava_onevision, LLaVA-NeXT formats."),
    "data": ("mmreason.cli.data", "Prepare corpora as Parquet, validate rows, export LLaVA JSON."),
    "eval": ("mmreason.cli.eval", "Evaluate on MathVista, MathVerse, MMMU(-Pro), MathVision, DynaMath, We-Math."),
    "sft": ("mmreason.cli.sft", "Rationale SFT with TRL (stage presets, packing); trl-style --config recipes."),
    "puma": ("mmreason.cli.puma", "Math-PUMA Stage-2 KL alignment (text-rich -> vision-rich) on PUMA pair rows."),
    "mpo": ("mmreason.cli.mpo", "InternVL's MPO / RPO preference training with TRL's DPOTrainer on preference rows."),
    "grpo": ("mmreason.cli.grpo", "GRPO with verifiable rewards (judge-free scorers) on prompt rows."),
    "synth": ("mmreason.cli.synth", "Synthesis pipelines (MAmmoTH-VL rewrite, MMPR pairs, DropoutNTP), resumable."),
    "serve": ("mmreason.cli.serve", "Serve a checkpoint with vLLM (its own env, mmreason's plugin); print the URL."),
    "check-server": ("mmreason.cli.check_server", "Compare a served model (vLLM) with the checkpoint in-process."),
    "card": ("mmreason.cli.card", "Write a checkpoint's model card (recipe, hyperparameters, eval results); push it."),
}


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `mmreason` console script."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(
        prog="mmreason",
        description="mmreason command line. `mmreason COMMAND --help` shows a command's flags; `--debug` after "
        "any command shows the traceback of an error.",
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"mmreason {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (_, help_text) in COMMANDS.items():
        commands.add_parser(name, help=help_text, add_help=False)
    if argv and not argv[0].startswith("-") and argv[0] not in COMMANDS:
        suggestion = closest(argv[0], COMMANDS)
        hint = f" (did you mean {suggestion}?)" if suggestion else ""
        parser.exit(2, f"mmreason: error: unknown command {argv[0]!r}{hint}; choose from {', '.join(COMMANDS)}\n")
    args, rest = parser.parse_known_args(argv[:1])
    importlib.import_module(COMMANDS[args.command][0]).main(argv[1:] + rest)


if __name__ == "__main__":
    main()
