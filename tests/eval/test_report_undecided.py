"""Rows flagged `needs_latex2sympy` (MATH-V `official` without the `latex` extra) are undecided in the reports,
worded like `needs_judge`: "n/a (N need latex2sympy)", never 0.0, no summary number, no `.eval_results` entry."""

from mmreason.eval.report import accuracy_text, decided, summary, undecided
from mmreason.eval.scorers import mathvision_official
from mmreason.eval.scorers.mathvision import MathVisionScorer

DOC = {"answer": "16", "options": []}


def _official(monkeypatch, responses):
    monkeypatch.setattr(mathvision_official, "latex2sympy_available", lambda: False)
    scorer = MathVisionScorer()
    verdicts = [scorer.score(r, DOC, "official") for r in responses]
    return scorer.aggregate([DOC] * len(verdicts), verdicts)


def test_all_rows_needing_latex2sympy_read_na(monkeypatch):
    metrics = _official(monkeypatch, ["Answer: 16", "<answer>16</answer>"])  # MATH-V compares these via latex2sympy
    assert metrics["flags"] == {"needs_latex2sympy": 2}
    assert accuracy_text(metrics) == "n/a (2 need latex2sympy)"
    assert not decided(metrics) and undecided(metrics) == 2
    assert summary({"metrics": {"official": metrics}}) == {"official": None}


def test_some_rows_needing_latex2sympy_are_named(monkeypatch):
    metrics = _official(monkeypatch, ["16", "Answer: 16", "15"])  # exact match, undecided, exact miss
    assert accuracy_text(metrics) == "33.3 (1 need latex2sympy)"


def test_both_kinds_are_named_together():
    metrics = {"accuracy": 0.0, "count": 3, "flags": {"needs_judge": 2, "needs_latex2sympy": 1}}
    assert accuracy_text(metrics) == "n/a (2 need a judge, 1 need latex2sympy)"
