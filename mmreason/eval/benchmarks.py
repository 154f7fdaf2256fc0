"""The benchmarks `mmreason eval` knows: Hub dataset, split, row id field and scorer of each.

| name | dataset (config, split) | scorer |
|---|---|---|
| `mathvista_testmini` | `AI4Math/MathVista` (testmini) | MathVista |
| `mathverse_testmini` | `CaraJ/MathVerse-lmmseval` (testmini, testmini) | MathVerse |
| `mmmu_val` | `lmms-lab-encoder/MMMU` (validation) | MMMU |
| `mmmu_pro_standard` | `MMMU/MMMU_Pro` (standard (10 options), test) | MMMU-Pro |
| `mathvision_testmini` | `MathLLMs/MathVision` (testmini) | MATH-Vision |
| `dynamath` | `DynaMath/DynaMath_Sample` (test) | DynaMath (average + worst case) |
| `wemath_testmini` | `We-Math/We-Math` (testmini) | We-Math (accuracy + four dimensions) |

`--data` may point at a local copy instead (a folder of Parquet files or a `datasets` folder with README
`configs:`), which is what tests and offline clusters use.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from .scorers.base import Scorer


@dataclass(frozen=True)
class Benchmark:
    """Where a benchmark's rows come from and which scorer judges them."""

    name: str
    scorer_path: str
    dataset: str
    split: str
    config: str | None = None
    id_fields: tuple[str, ...] = ("id", "pid", "sample_index", "ID", "index")

    def scorer(self, **kwargs: Any) -> Scorer:
        """A new scorer instance (`kwargs` go to its constructor, e.g. `backend="math_verify"`)."""
        module, name = self.scorer_path.split(":")
        return getattr(importlib.import_module(f"mmreason.eval.scorers.{module}"), name)(**kwargs)

    def row_id(self, row: dict[str, Any], index: int) -> str:
        """A stable id for a row (its own id field, else its index)."""
        for field in self.id_fields:
            if row.get(field) is not None:
                return str(row[field])
        return str(index)


BENCHMARKS = {
    b.name: b
    for b in (
        Benchmark("mathvista_testmini", "mathvista:MathVistaScorer", "AI4Math/MathVista", "testmini"),
        Benchmark(
            "mathverse_testmini", "mathverse:MathVerseScorer", "CaraJ/MathVerse-lmmseval", "testmini", "testmini"
        ),
        Benchmark("mmmu_val", "mmmu:MMMUScorer", "lmms-lab-encoder/MMMU", "validation"),
        Benchmark("mmmu_pro_standard", "mmmu_pro:MMMUProScorer", "MMMU/MMMU_Pro", "test", "standard (10 options)"),
        Benchmark("mathvision_testmini", "mathvision:MathVisionScorer", "MathLLMs/MathVision", "testmini"),
        Benchmark("dynamath", "dynamath:DynaMathScorer", "DynaMath/DynaMath_Sample", "test"),
        Benchmark("wemath_testmini", "wemath:WeMathScorer", "We-Math/We-Math", "testmini"),
    )
}


def get_benchmark(name: str) -> Benchmark:
    """The registered benchmark `name`; raises with the known names otherwise."""
    if name not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {name!r}; known: {sorted(BENCHMARKS)}")
    return BENCHMARKS[name]


def strict_changes_markdown() -> str:
    """The README's list of every `strict` vs `official` difference, generated from the scorers."""
    lines, seen = [], set()
    for bench in BENCHMARKS.values():
        scorer = bench.scorer()
        if scorer.name in seen:
            continue
        seen.add(scorer.name)
        lines.append(f"**{scorer.name}** (`{bench.scorer_path.replace(':', '.')}`)\n")
        lines.extend(f"- {change}" for change in scorer.STRICT_CHANGES)
        lines.append("")
    return "\n".join(lines).strip() + "\n"


__all__ = ["BENCHMARKS", "Benchmark", "get_benchmark", "strict_changes_markdown"]
