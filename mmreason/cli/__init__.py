"""The `mmreason` command line: `mmreason <command> [--config file.yaml] [--key value ...]`.

Each command is a module with a `main(argv)` that parses its own dataclass arguments with TRL's `TrlParser`
(so `--config recipe.yaml` works as with `trl sft`); this module only dispatches.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = {
    "demo": ("mmreason.cli.demo", "Build a tiny model, fine-tune it on the bundled sample rows, reload it, generate."),
    "convert": ("mmreason.cli.convert", "Convert checkpoints between mmreason, llava_onevision, LLaVA-NeXT formats."),
    "data": ("mmreason.cli.data", "Prepare corpora as Parquet, validate rows, export LLaVA JSON."),
    "eval": ("mmreason.cli.eval", "Evaluate on MathVista, MathVerse, MMMU(-Pro), MathVision, DynaMath, We-Math."),
    "sft": ("mmreason.cli.sft", "Rationale SFT with TRL (stage presets, packing); trl-style --config recipes."),
}


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `mmreason` console script."""
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="mmreason", description="mmreason command line.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (_, help_text) in COMMANDS.items():
        commands.add_parser(name, help=help_text, add_help=False)
    args, rest = parser.parse_known_args(argv)
    importlib.import_module(COMMANDS[args.command][0]).main(rest)


if __name__ == "__main__":
    main()
