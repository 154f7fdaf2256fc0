"""`mmreason card --model_dir DIR [--eval_results PATH ...] [--base_model ID] [--datasets ID ...] [--push_to REPO]`.

Writes mmreason's model card (`mmreason.hub.model_card`) into a checkpoint folder: recipe and hyperparameters
(read from the trainer's `training_args.bin` when present), eval results from `mmreason eval` reports (as a table and
as `model-index`; their `.eval_results/*.yaml` copied into the folder), an `AutoModelForImageTextToText` snippet.
`--push_to` uploads the folder with `huggingface_hub` (`--create_pr` to open a pull request instead).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from .errors import configure_logging, run_command, strict_parse, trl_parser


@dataclass
class CardArguments:
    """Arguments of `mmreason card`."""

    model_dir: str = field(metadata={"help": "The checkpoint folder (the card is written to its README.md)."})
    eval_results: list[str] = field(default_factory=list, metadata={"help": "mmreason eval output folders/files."})
    base_model: str | None = field(default=None, metadata={"help": "Hub id of the base model (default: config)."})
    datasets: list[str] = field(default_factory=list, metadata={"help": "Hub ids of the training datasets."})
    recipe: str | None = field(default=None, metadata={"help": "The recipe's name (default: from the trainer)."})
    license: str | None = field(default=None, metadata={"help": "License id (left unset by default)."})
    push_to: str | None = field(default=None, metadata={"help": "Hub repo to upload the folder to."})
    create_pr: bool = field(default=False, metadata={"help": "Open a pull request instead of pushing to main."})


def _trainer_facts(folder: Path) -> tuple[str | None, dict]:
    """The recipe and hyperparameters from `training_args.bin` (a trainer's saved config), if there is one."""
    path = folder / "training_args.bin"
    if not path.exists():
        return None, {}
    import torch

    from ..hub.model_card import training_hyperparameters

    args = torch.load(path, weights_only=False)  # written by transformers' Trainer in this folder
    from .. import train

    recipes = {  # each config's trainer names its own recipe (`card_recipe`), as on the cards it writes
        train.RationaleSFTConfig: train.RationaleSFTTrainer, train.MPOConfig: train.MPOTrainer,
        train.PUMAConfig: train.PUMATrainer, train.ReasoningGRPOConfig: train.ReasoningGRPOTrainer,
    }  # fmt: skip
    trainer = recipes.get(type(args))
    return (trainer.card_recipe if trainer else None), training_hyperparameters(args)


def _main(argv: list[str]) -> None:
    (args,) = strict_parse(trl_parser((CardArguments,), prog="mmreason card"), argv)
    configure_logging()
    import json

    from ..hub.model_card import model_card, push_folder, read_eval_results

    folder = Path(args.model_dir)
    if not (folder / "config.json").exists():
        raise FileNotFoundError(f"{folder} has no config.json: not a checkpoint folder")
    recipe, hyperparameters = _trainer_facts(folder)
    base = args.base_model or json.loads((folder / "config.json").read_text()).get("_name_or_path")
    rows = read_eval_results(args.eval_results)
    card = model_card(folder.resolve().name, recipe=args.recipe or recipe or "mmreason training", base_model=base,
                      datasets=args.datasets, hyperparameters=hyperparameters, eval_rows=rows,
                      repo_id=args.push_to, license=args.license)  # fmt: skip
    card.save(folder / "README.md")
    for given in args.eval_results:
        for yaml_file in Path(given).rglob(".eval_results/*.yaml") if Path(given).is_dir() else []:
            (folder / ".eval_results").mkdir(exist_ok=True)
            shutil.copy(yaml_file, folder / ".eval_results" / yaml_file.name)
    print(f"wrote {folder / 'README.md'} ({len(rows)} eval results)")
    if args.push_to:
        info = push_folder(folder, args.push_to, create_pr=args.create_pr)
        print(f"pushed to {getattr(info, 'pr_url', None) or getattr(info, 'commit_url', args.push_to)}")


def main(argv: list[str] | None = None) -> None:
    """Entry point of `mmreason card`."""
    run_command("mmreason card", _main, argv)
