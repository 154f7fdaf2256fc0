"""mmreason's model card: what a trained checkpoint is, how it was made and how well it does, in the Hub's format.

`model_card(...)` renders `hub_cards/models/model_card.md` with `huggingface_hub.ModelCard.from_template`: metadata
(`pipeline_tag: image-text-to-text`, `library_name: transformers`, base model, datasets, tags, the eval runner's
results as `model-index`), the recipe and its hyperparameters, an eval table, an `AutoModelForImageTextToText`
snippet, and license fields left to the user. The trainers write it instead of TRL's generic card; `mmreason card`
builds it for any output folder and can push it (`huggingface_hub.upload_folder`, optionally as a PR).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from huggingface_hub import EvalResult, ModelCard, ModelCardData

TEMPLATE = Path(__file__).resolve().parent.parent / "assets" / "hub_cards" / "models" / "model_card.md"
#: task names for `model-index` (the Hub's task types)
TASK = ("image-text-to-text", "Image-Text-to-Text")


@dataclass(frozen=True)
class EvalRow:
    """One benchmark score from an eval runner `results.json` (accuracy in %)."""

    benchmark: str
    dataset: str
    split: str
    mode: str
    value: float
    rows: int
    complete: bool


def read_eval_results(paths: Iterable[str | os.PathLike]) -> list[EvalRow]:
    """The scores of eval runner reports: each path is a `results.json` or a folder holding them (searched
    recursively); one row per benchmark and scoring mode that decided rows."""
    rows: list[EvalRow] = []
    for given in paths:
        path = Path(given)
        files = sorted(path.rglob("results.json")) if path.is_dir() else [path]
        for file in files:
            results = json.loads(file.read_text())
            if "benchmark" not in results or "metrics" not in results:
                continue  # another tool's results.json (e.g. the quickstart's summary)
            for mode, metrics in results["metrics"].items():
                if isinstance(metrics, dict) and isinstance(metrics.get("accuracy"), (int, float)):
                    rows.append(EvalRow(results["benchmark"], results.get("dataset") or results["benchmark"],
                                        str(results.get("split", "")), mode, round(100 * metrics["accuracy"], 2),
                                        int(results.get("answered", 0)), bool(results.get("complete"))))  # fmt: skip
    return rows


def _eval_results(rows: list[EvalRow]) -> list[EvalResult]:
    return [EvalResult(task_type=TASK[0], task_name=TASK[1], dataset_type=r.dataset, dataset_name=r.benchmark,
                       dataset_split=r.split or None, metric_type="accuracy", metric_name=f"accuracy ({r.mode})",
                       metric_value=r.value)
            for r in rows]  # fmt: skip


#: the `TrainingArguments` / trainer-config fields a card lists (those a trainer has and sets)
CARD_FIELDS = (
    "learning_rate", "mm_vision_tower_lr", "mm_projector_lr", "mm_tunable_parts", "per_device_train_batch_size",
    "gradient_accumulation_steps", "num_train_epochs", "max_steps", "lr_scheduler_type", "warmup_steps",
    "weight_decay", "max_length", "image_aspect_ratio", "chat_template_name", "loss_type", "loss_weights", "beta",
    "alpha_kl", "lambda_kl", "temperature_kl", "bf16", "seed",
)  # fmt: skip


def training_hyperparameters(args: Any) -> dict[str, Any]:
    """The [`CARD_FIELDS`] of a trainer config that are set (`max_steps` only when positive)."""
    values = {}
    by_steps = getattr(args, "max_steps", -1) > 0
    for name in CARD_FIELDS:
        value = getattr(args, name, None)
        if value is None or (name == "max_steps" and not by_steps) or (name == "num_train_epochs" and by_steps):
            continue
        values[name] = value
    return values


def _versions() -> dict[str, str]:
    import transformers
    import trl

    return {"transformers": transformers.__version__, "trl": trl.__version__}


def _hub_id(name: str | None) -> str | None:
    """`name` when it looks like a Hub id (`owner/name`, not a local folder), else `None`."""
    return name if name and not os.path.isdir(name) and name.count("/") == 1 else None


def model_card(
    model_name: str,
    *,
    recipe: str,
    base_model: str | None = None,
    datasets: list[str] | None = None,
    hyperparameters: Mapping[str, Any] | None = None,
    eval_rows: list[EvalRow] | None = None,
    tags: list[str] | None = None,
    repo_id: str | None = None,
    license: str | None = None,
    summary: str | None = None,
) -> ModelCard:
    """The rendered card. `base_model` / `datasets` are Hub ids (local paths are left out of the metadata);
    `eval_rows` come from [`read_eval_results`] (partial runs are shown in the table, marked, but not put in the
    `model-index`); `license` stays unset unless given."""
    base = _hub_id(base_model)
    sets = [d for d in (datasets or []) if _hub_id(d)]
    rows = eval_rows or []
    data = ModelCardData(
        model_name=model_name, base_model=base, datasets=sets or None, pipeline_tag="image-text-to-text",
        library_name="transformers", tags=sorted({"mmreason", "image-text-to-text", *(tags or [])}),
        license=license, eval_results=_eval_results([r for r in rows if r.complete]) or None,
    )  # fmt: skip
    return ModelCard.from_template(
        data, template_path=str(TEMPLATE), model_name=model_name, recipe=recipe, base_model=base, datasets=sets,
        hyperparameters=dict(hyperparameters or {}), results=rows, repo_id=repo_id or f"<user>/{model_name}",
        license=license, versions=_versions(),
        summary=summary or f"A multimodal reasoning model (mmreason's LLaVA-OneVision architecture), {recipe}.",
    )  # fmt: skip


def push_folder(folder: str | os.PathLike, repo_id: str, create_pr: bool = False, token: str | None = None) -> Any:
    """Upload a checkpoint folder (weights, processor, card, `.eval_results/`) with `huggingface_hub`."""
    from huggingface_hub import create_repo, upload_folder

    create_repo(repo_id, exist_ok=True, token=token)
    return upload_folder(folder_path=str(folder), repo_id=repo_id, create_pr=create_pr, token=token,
                         commit_message="mmreason: model, processor and card")  # fmt: skip


__all__ = [
    "CARD_FIELDS",
    "TEMPLATE",
    "EvalRow",
    "model_card",
    "push_folder",
    "read_eval_results",
    "training_hyperparameters",
]
