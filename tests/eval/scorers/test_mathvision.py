"""MATH-Vision: `official` checked against MATH-V's own evaluation code (fixture verdicts, see
fixtures/mathvision_official.md), `strict` against hand-decided truth; both bounded and unable to raise."""

import json
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmreason.eval.scorers import mathvision_official
from mmreason.eval.scorers.mathvision import MathVisionScorer, latex_value
from mmreason.eval.scorers.mathvision_latex import OverBound, arith_eval, latex2sympy_available
from mmreason.eval.scorers.mathvision_official import find_math_answer, official_extract

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "mathvision_official.json").read_text())

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

STRICT_CASES = [  # response, doc, official verdict (unused: see the fixture), strict (hand-decided)
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


@pytest.mark.parametrize(("response", "doc", "official", "strict"), STRICT_CASES)
def test_strict_verdicts(response, doc, official, strict):
    assert MathVisionScorer().score(response, doc, "strict").correct is strict


def test_helpers_never_eval_model_text():
    assert latex_value("\\frac{3}{4}") == 0.75 and latex_value("2\\sqrt{4}") == 4.0  # implicit product
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


def _doc(case):
    return {"answer": case["answer"], "options": case["options"]}


def test_official_extraction_matches_the_official_code():
    """`model_answer` of MATH-V's `evaluate()` on every adversarial response (no latex2sympy needed)."""
    mismatches = [c["id"] for c in FIXTURE if official_extract(c["response"]) != c["official_answer"]]
    assert len(FIXTURE) > 1000 and mismatches == []


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("\\boxed{16 km}", "16"),  # spaces go first, then only the literal "km": not "160"
        ("The distance is 16 km.", "thedistanceis16"),  # "16 km" after "is " is no number: the whole text
        ("\\boxed{\\frac12}", "\\frac12"),  # `_fix_fracs` runs only when "sqrt" occurs
        ("\\boxed{\\sqrt3+\\frac12}", "\\sqrt{3}+\\frac{1}{2}"),
        ("\\boxed{16\\mathrm{~cm}}", "16\\mathrm{~cm}"),  # only `\\text`/`\\mbox` and four units are removed
    ],
)
def test_official_extraction_quirks(response, expected):
    reference = {c["response"]: c["official_answer"] for c in FIXTURE}
    assert official_extract(response) == expected
    if response in reference:
        assert reference[response] == expected


def test_official_without_latex2sympy_flags_instead_of_guessing(monkeypatch):
    monkeypatch.setattr(mathvision_official, "latex2sympy_available", lambda: False)
    scorer, decided = MathVisionScorer(), 0
    for case in FIXTURE:
        verdict = scorer.score(case["response"], _doc(case), "official")
        if "needs_latex2sympy" in verdict.flags:
            assert verdict.correct is False
            continue
        decided += 1
        assert verdict.correct is case["official_correct"], case
    assert decided >= 400  # letters, plain numbers and exact strings are decided without the extra


@pytest.mark.slow  # ~13 s: latex2sympy2's antlr parser is slow
def test_official_with_latex2sympy_agrees_100_percent():
    pytest.importorskip("latex2sympy2")
    if not latex2sympy_available():
        pytest.skip("latex2sympy2 installed without its antlr4-python3-runtime==4.7.2")
    scorer = MathVisionScorer()
    verdicts = [scorer.score(c["response"], _doc(c), "official") for c in FIXTURE]
    assert [v.correct for v in verdicts] == [c["official_correct"] for c in FIXTURE]
    assert not any(v.flags and "no_answer" not in v.flags for v in verdicts)


def _fp_fn(verdicts):
    fp = sum(v and not c["truth"] for v, c in zip(verdicts, FIXTURE))
    fn = sum(c["truth"] and not v for v, c in zip(verdicts, FIXTURE))
    return fp, fn


def test_strict_is_much_better_than_official_against_hand_decided_truth():
    scorer = MathVisionScorer()
    official = _fp_fn([c["official_correct"] for c in FIXTURE])
    strict = _fp_fn([scorer.score(c["response"], _doc(c), "strict").correct for c in FIXTURE])
    assert official == (51, 238)  # the official code's errors on this set
    assert strict[0] == 0 and strict[1] <= 15
    assert strict[0] * 5 <= official[0] and strict[1] * 5 <= official[1]


@pytest.mark.parametrize("minus", ["\u2212", "\ufe63", "\uff0d"])
def test_strict_unicode_minus_keeps_the_sign(minus):
    scorer = MathVisionScorer()
    nine = {"answer": "9", "options": []}
    assert scorer.score(f"\\boxed{{{minus}9}}", nine, "strict").correct is False
    assert scorer.score(f"\\boxed{{{minus}9}}", {"answer": "-9", "options": []}, "strict").correct is True


@pytest.mark.parametrize("text", ["Choice C", "Option C.", "Thinking it over.\n</think>\nC", "(C)"])
def test_strict_reads_letters(text):
    assert MathVisionScorer().score(text, MC, "strict").correct is True


def test_arith_eval_bounds_instead_of_hanging():
    for source in ("2**(2**40)", "9**9**9", "10**(10**10)", "factorial(100000)", "(2**600000)*(2**600000)"):
        with pytest.raises(OverBound):
            arith_eval(source)
    assert arith_eval("(9**9)**9") == 9**81
    for source in ("__import__('os')", "(1).real", "x", "[1, 2]"):
        with pytest.raises(NameError):
            arith_eval(source)
    with pytest.raises(OverflowError):
        arith_eval("10**400/3")  # as `eval` raises: MATH-V then answers False


PATHOLOGICAL = [
    "\\boxed{9^9^9}",
    "\\boxed{2^{2^{40}}}",
    "\\boxed{10^{10^{10}}}",
    "\\boxed{\\frac{" + "7" * 400 + "}{3}}",
    "The answer is " + "1" * 400 + "/3",
    "\\boxed{" + "(" * 3000 + "1" + ")" * 3000 + "}",
    "\\boxed{100000!}",
]
HUGE = [
    "1" * 100_000 + "x",
    " " * 100_000,
    "oxed{" * 20_000,
    "is " * 33_000 + "1",
    "\\sqrt" * 20_000,
    "\\frac" * 20_000,
    "9" * 99_999 + ".",
    "The answer is " * 7_000,
    ".*" * 50_000,
    "{" * 50_000 + "}" * 50_000,
]


@pytest.mark.parametrize("mode", ["official", "strict"])
def test_pathological_responses_are_bounded(mode):
    scorer = MathVisionScorer()
    for response in PATHOLOGICAL:
        start = time.perf_counter()
        verdict = scorer.score(response, {"answer": "3", "options": []}, mode)
        assert time.perf_counter() - start < 2.0 and verdict.correct is False, response[:40]
    assert "over_bound" in scorer.score("\\boxed{2^{2^{40}}}", {"answer": "3", "options": []}, "strict").flags


@pytest.mark.parametrize("mode", ["official", "strict"])
@pytest.mark.parametrize("response", HUGE, ids=range(len(HUGE)))
def test_100k_character_responses_are_fast(mode, response):
    scorer = MathVisionScorer()
    for doc in ({"answer": "3", "options": []}, MC):
        assert _best_time(lambda doc=doc: scorer.score(response, doc, mode)) < 0.1


def _best_time(call, repeats: int = 3) -> float:
    """Fastest of a few runs, so a loaded CI machine does not fail a linear-time check."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


_TOKENS_A = ["\\boxed{", "}", "{", "oxed{", "is ", "=", "\\approx", "\\frac", "\\sqrt", "^", "9", "1", ".", ",", " "]
_TOKENS_B = [
    "\n",
    "-",
    "\u2212",
    "(",
    ")",
    "C",
    "(C)",
    "km",
    "\\text{",
    "the answer is ",
    "</think>",
    "<answer>",
    "\\pi",
]
TOKENS = st.sampled_from([*_TOKENS_A, *_TOKENS_B])


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(TOKENS, max_size=40), answer=st.sampled_from(["3", "C", "\\frac{1}{2}", "(1,2)", "-9"]))
def test_fuzz_never_raises(parts, answer):
    scorer, doc = MathVisionScorer(), {"answer": answer, "options": ["1", "2", "3"] if answer == "C" else []}
    for mode in ("official", "strict"):
        verdict = scorer.score("".join(parts), doc, mode)
        assert isinstance(verdict.correct, bool)
