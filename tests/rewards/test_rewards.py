"""Rewards on hand-written responses: the expected value of each case is decided by hand, and equals the strict
scorer's verdict on the same response; the format reward's cases; weighted composition; TRL's calling convention
(conversational completions, dataset columns as keyword lists)."""

import pytest

from mmreason.eval.benchmarks import get_benchmark
from mmreason.rewards import AccuracyReward, FormatReward, weighted
from tests.eval.scorers.test_mathvista import CITIES, FLOAT1, INT, doc

PROC = {"answer": "B", "choices": ["A", "B", "C", "D"], "question": "Which bar is the tallest?"}
PROCEDURAL = [  # (response, right by hand)
    ("The heights are A 2, B 5.\nFinal answer: B", True),
    ("Final answer: b.", True),  # case and one trailing period ignored
    ("Final answer: C\nFinal answer: B", True),  # the last line counts
    ("Final answer: B\nFinal answer: C", False),
    ("The tallest is B.", False),  # no final-answer line
    ("", False),
]
MC = doc("tokyo", "multi_choice", "text", CITIES)
MATHVISTA = [
    ("So the answer is (D) tokyo.\nFinal answer: D", MC, True),
    ("Final answer: osaka", MC, False),
    ("x = 3, so the answer is 3.", INT, True),
    ("Final answer: 3.0", INT, True),
    ("Final answer: 4", INT, False),
    ("The value is 1.2 m.", FLOAT1, True),
]


def _columns(docs):
    return {key: [d[key] for d in docs] for key in docs[0]}


def test_procedural_accuracy_matches_hand_and_scorer():
    responses = [r for r, _ in PROCEDURAL]
    docs = [PROC] * len(responses)
    got = AccuracyReward("procedural")(prompts=[None] * len(docs), completions=responses, **_columns(docs))
    assert got == [float(right) for _, right in PROCEDURAL]
    scorer = get_benchmark("procedural").scorer()
    assert got == [float(scorer.score(r, d).correct) for r, d in zip(responses, docs)]


def test_mathvista_accuracy_matches_hand_and_scorer():
    responses, docs = [r for r, _, _ in MATHVISTA], [d for _, d, _ in MATHVISTA]
    columns = _columns(docs)
    completions = [[{"role": "assistant", "content": r}] for r in responses]  # TRL's conversational form
    got = AccuracyReward("mathvista_testmini")(prompts=[None] * len(docs), completions=completions, **columns)
    scorer = get_benchmark("mathvista_testmini").scorer()
    assert got == [float(scorer.score(r, d, "strict").correct) for r, d in zip(responses, docs)]
    assert got == [float(right) for _, _, right in MATHVISTA]


@pytest.mark.parametrize(("text", "expected"), [
    ("Steps.\nFinal answer: 12", 1.0), ("final answer: x", 1.0), ("Final answer：7", 1.0),  # noqa: RUF001
    ("Final answer:", 0.0), ("Final answer:   \n", 0.0), ("no answer here", 0.0),
    (r"so $\boxed{3}$", 1.0), (r"\boxed{\frac{1}{2}}", 1.0), (r"\boxed{}", 0.0), (r"\boxed{3", 0.0),
])  # fmt: skip
def test_format_reward_cases(text, expected):
    assert FormatReward()(completions=[text]) == [expected]


def test_boxed_can_be_switched_off():
    assert FormatReward(boxed=False)(completions=[r"\boxed{3}", "Final answer: 3"]) == [0.0, 1.0]


def test_weighted_sum_and_names():
    accuracy, form = AccuracyReward("procedural"), FormatReward()
    combined = weighted({accuracy: 1.0, form: 0.25})
    responses = ["Final answer: B", "Final answer: C", "B"]
    got = combined(completions=responses, **_columns([PROC] * 3))
    assert got == [1.25, 0.25, 0.0]
    assert combined.__name__ == "1*accuracy_procedural+0.25*format"
    with pytest.raises(ValueError):
        weighted({})
