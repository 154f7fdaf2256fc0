"""Train/test splits of the procedural set as a `datasets.DatasetDict`, saved as Parquet with a dataset card.

Saved layout (`load_dataset(out, config, split=...)`):

    out/README.md                       card: YAML `configs:` + what the set is and how it was made
    out/sft_train/train.parquet         canonical SFT rows, both views of every train problem
    out/pairs_train/train.parquet       PUMA pair rows (text-rich -> vision-rich) of the train problems
    out/prompts_train/train.parquet     prompt rows (`prompt`, `images`, `answer`) for GRPO, both views
    out/test_<level>_<view>/test.parquet  `procedural` benchmark rows (config `test_<level>_<view>`, split `test`)

plus config `test`, whose splits `easy_vision`, `easy_text`, `hard_vision`, `hard_text` are those four files (the
`procedural` benchmark reads it). Train and test share no problem: a train problem whose scene and question
(family, level, description, question) also occur in the test set is skipped.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import datasets

from ..preference import puma_features
from ..schema import row_features
from .generate import check_families, iter_problems
from .problem import LEVELS, VIEWS, Problem
from .rows import eval_row, prompt_row, puma_row, sft_row

TEST_SUBSETS = tuple(f"{level}_{view}" for level in LEVELS for view in VIEWS)
CONFIGS = ("sft_train", "pairs_train", "prompts_train", *(f"test_{subset}" for subset in TEST_SUBSETS))


def eval_features() -> datasets.Features:
    """The `datasets.Features` of a `procedural` benchmark row."""
    string = datasets.Value("string")
    columns = {name: string for name in ("id", "family", "level", "view", "subset", "question")}
    return datasets.Features(
        {**columns, "choices": datasets.List(string), "answer": string, "image": datasets.Image()}
    )


def problem_key(problem: Problem) -> tuple[str, str, str, str]:
    """What makes two problems the same: family, level, scene description and question."""
    return (problem.family, problem.level, problem.description, problem.question)


def split_problems(
    seed: int, n_train: int, n_test: int, families: Sequence[str] | None = None
) -> dict[str, dict[str, list[Problem]]]:
    """`{"train"|"test": {level: problems}}`: `n_train` / `n_test` problems per level, none shared.

    Raises `ValueError` when the families' scenes are too few to fill the train split without test problems."""
    chosen = check_families(families)
    out: dict[str, dict[str, list[Problem]]] = {"train": {}, "test": {}}
    for level in LEVELS:
        test_stream = iter_problems(f"{seed}-test", level, chosen)
        out["test"][level] = [next(test_stream) for _ in range(n_test)]
        held_out = {problem_key(p) for p in out["test"][level]}
        train, stream = [], iter_problems(f"{seed}-train", level, chosen)
        for _ in range(50 * n_train + 1000):
            if len(train) == n_train:
                break
            problem = next(stream)
            if problem_key(problem) not in held_out:
                train.append(problem)
        if len(train) < n_train:
            raise ValueError(f"{level}: only {len(train)} train problems outside the test set (asked {n_train})")
        out["train"][level] = train
    return out


def build_splits(
    seed: int = 0, n_train: int = 200, n_test: int = 50, families: Sequence[str] | None = None
) -> datasets.DatasetDict:
    """The set's configs as one `DatasetDict` (keys `CONFIGS`): `n_train` train and `n_test` test problems per
    level, families taken in turn; deterministic in `seed`."""
    problems = split_problems(seed, n_train, n_test, families)
    train = [p for level in LEVELS for p in problems["train"][level]]
    parts: dict[str, datasets.Dataset] = {
        "sft_train": _dataset([sft_row(p, view) for p in train for view in VIEWS], row_features(with_videos=False)),
        "pairs_train": _dataset([puma_row(p) for p in train], puma_features()),
        "prompts_train": _dataset([prompt_row(p, view) for p in train for view in VIEWS], prompt_features()),
    }
    for level in LEVELS:
        for view in VIEWS:
            rows = [eval_row(p, view) for p in problems["test"][level]]
            parts[f"test_{level}_{view}"] = _dataset(rows, eval_features())
    return datasets.DatasetDict(parts)


def prompt_features() -> datasets.Features:
    """The `datasets.Features` of a prompt row ([`prompt_row`]): the canonical messages and images types."""
    canonical = row_features(with_videos=False)
    return datasets.Features({
        "id": datasets.Value("string"), "source": datasets.Value("string"),
        "quality_group": datasets.Value("string"), "prompt": canonical["messages"], "images": canonical["images"],
        "answer": datasets.Value("string"),
    })  # fmt: skip


def _dataset(rows: list[dict[str, Any]], features: datasets.Features) -> datasets.Dataset:
    columns = {name: [row[name] for row in rows] for name in features}
    return datasets.Dataset.from_dict(columns, features=features)


def _card(seed: int, n_train: int, n_test: int, families: Sequence[str], splits: datasets.DatasetDict) -> str:
    def entry(name: str, files: list[tuple[str, str]]) -> str:
        listed = "".join(f"  - split: {split}\n    path: {path}\n" for split, path in files)
        return f"- config_name: {name}\n  data_files:\n{listed}"

    configs = [entry(name, [("test" if name.startswith("test_") else "train", f"{name}/*.parquet")])
               for name in CONFIGS]  # fmt: skip
    configs.append(entry("test", [(subset, f"test_{subset}/*.parquet") for subset in TEST_SUBSETS]))
    counts = "\n".join(f"| `{name}` | {splits[name].num_rows} |" for name in CONFIGS)
    return (
        "---\nconfigs:\n" + "".join(configs) + "---\n\n# mmreason procedural visual-reasoning set\n\n"
        f"Generated by `mmreason.data.procedural.save(out, seed={seed}, n_train={n_train}, n_test={n_test}, "
        f"families={list(families)})`: PIL-rendered scenes, a verifiable gold answer per problem, a step-by-step "
        "rationale ending in `Final answer: <answer>`, `easy` (one step) and `hard` (several steps) levels, and a "
        "text-rich twin (the scene also described in text) of every vision-rich problem. Train and test share no "
        "problem. Evaluate with `mmreason eval --benchmark procedural --data <this folder>`.\n\n"
        f"| config | rows |\n|---|---|\n{counts}\n"
    )


def save(
    out_dir: str | os.PathLike,
    seed: int = 0,
    n_train: int = 200,
    n_test: int = 50,
    families: Sequence[str] | None = None,
) -> Path:
    """Build the splits and write them as Parquet plus a `README.md` card (see the module docstring); returns
    the folder."""
    chosen = check_families(families)
    splits = build_splits(seed, n_train, n_test, chosen)
    out = Path(out_dir)
    for name in CONFIGS:
        (out / name).mkdir(parents=True, exist_ok=True)
        splits[name].to_parquet(str(out / name / f"{'test' if name.startswith('test_') else 'train'}.parquet"))
    (out / "README.md").write_text(_card(seed, n_train, n_test, chosen, splits), encoding="utf-8")
    return out


__all__ = ["CONFIGS", "TEST_SUBSETS", "build_splits", "eval_features", "problem_key", "save", "split_problems"]
