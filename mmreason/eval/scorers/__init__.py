"""Judge-free benchmark scorers (pure Python): one module per benchmark, each with `official` and `strict` modes.

Get one through the benchmark registry: `mmreason.eval.get_benchmark("mathvista_testmini").scorer()`.
"""

from .base import MODES, Scorer, Verdict, accuracy_table

__all__ = ["MODES", "Scorer", "Verdict", "accuracy_table"]
