"""Evaluation: judge-free benchmark scorers, generation backends, the runner, lmms-eval and `evaluate` glue."""

from pathlib import Path

from .benchmarks import BENCHMARKS, Benchmark, get_benchmark
from .scorers.base import MODES, Scorer, Verdict

#: `evaluate.load(METRIC_PATH, "<benchmark>")` loads the scorers as an `evaluate` metric
METRIC_PATH = str(Path(__file__).resolve().parent / "metric" / "mmreason_reasoning")

__all__ = ["BENCHMARKS", "METRIC_PATH", "MODES", "Benchmark", "Scorer", "Verdict", "get_benchmark"]
