"""MATH-Vision: official MATH-V rules (quirks kept) vs strict. Official expectations follow MATH-V's
`evaluation/utils.py` rules as documented in the module docstring."""

import pytest

from mmreason.eval.scorers.mathvision import MathVisionScorer, find_math_answer, latex_value

MC = {
    "id": "1",
    "question": "Which?",
    "options": ["1", "2", "3", "4", "5"],
    "answer": "C",
    "subject": "algebra",
    "level": 2,
}
HALF = {"id": "2", "question": "x?", "options": [], "answer": "\\frac{1}{2}", "subject": "arithmetic", "level": 1}
THIRD = {"id": "3", "question": "x?", "options": [], "answer": "\\frac{1}{3}", "subject": "arithmetic", "level": 1}
PI = {"id": "4", "question": "area?", "options": [], "answer": "\\pi", "subject": "metric geometry", "level": 3}
BIG = {"id": "5", "question": "n?", "options": [], "answer": "1200", "subject": "counting", "level": 2}
PAIR = {"id": "6", "question": "point?", "options": [], "answer": "(1,2)", "subject": "analytic geometry", "level": 4}

CASES = [  # response, doc, official, strict
    ("So the answer is C.", MC, True, True),
    ("The answer is \\boxed{C}", MC, True, True),
    ("\\boxed{3}", MC, True, True),  # the option text
    ("(C)\nBecause the middle bar is tallest", MC, True, False),  # strict: no "starts with (C)" guess
    ("Options A and B are wrong, so \\boxed{D}", MC, False, False),
    ("I think it could be A or C", MC, False, False),
    ("x = \\boxed{0.5}", HALF, True, True),
    ("\\boxed{\\dfrac{1}{2}}", HALF, True, True),
    ("The answer is 0.5", HALF, True, True),
    ("\\boxed{0.333}", THIRD, True, False),  # official rounds both to 2 decimals
    ("\\boxed{3.14}", PI, True, False),  # 3.14 == round(pi, 2)
    ("\\boxed{\\pi}", PI, True, True),
    ("There are \\boxed{1,200} ways", BIG, False, True),  # thousands separator
    ("\\boxed{1200 \\text{ ways}}", BIG, False, True),  # official keeps the unit word
    ("\\boxed{(1, 2)}", PAIR, True, True),
    ("\\boxed{(2, 1)}", PAIR, False, False),
    ("I don't know.", BIG, False, False),
]


@pytest.mark.parametrize(("response", "doc", "official", "strict"), CASES)
def test_verdicts(response, doc, official, strict):
    scorer = MathVisionScorer()
    assert scorer.score(response, doc, "official").correct is official
    assert scorer.score(response, doc, "strict").correct is strict


def test_helpers_never_eval_model_text():
    assert latex_value("\\frac{3}{4}") == 0.75 and latex_value("2\\sqrt{4}") is None  # implicit products: no guess
    assert latex_value("__import__('os').system('echo hi')") is None
    assert find_math_answer("so $x = \\boxed{\\dfrac{1}{2}}$.") == "\\frac{1}{2}"


def test_prompt_and_aggregate():
    scorer = MathVisionScorer()
    assert scorer.prompt(MC).startswith(
        'Please solve the problem step by step and put your answer in one "\\boxed{}".'
    )
    assert "(A) 1 (B) 2" in scorer.prompt(MC)
    docs = [MC, HALF, PI]
    verdicts = [scorer.score(r, d) for r, d in [("\\boxed{C}", MC), ("\\boxed{2}", HALF), ("\\boxed{\\pi}", PI)]]
    result = scorer.aggregate(docs, verdicts)
    assert result["accuracy"] == pytest.approx(2 / 3) and result["subject"]["arithmetic"]["accuracy"] == 0.0
