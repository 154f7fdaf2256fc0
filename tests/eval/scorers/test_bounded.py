"""Every scorer call is bounded: linear time in the response, never raises, `over_bound` past a bound (#11 item 5).

`CASES` lists the scorers and the rows they are fuzzed on; another scorer joins every test here by adding a
`ScorerCase(name, factory, docs)` (a few rows covering its question/answer types) to it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmreason.eval.scorers.base import MAX_RESPONSE_CHARS, MODES, OVER_BOUND, Scorer, Verdict
from mmreason.eval.scorers.extract import answer_tags
from mmreason.eval.scorers.matching import levenshtein
from mmreason.eval.scorers.mathverse import MathVerseScorer
from mmreason.eval.scorers.mathvista import MathVistaScorer, quick_extract
from mmreason.eval.scorers.mmmu import MMMUScorer, extract_numbers
from mmreason.eval.scorers.mmmu_pro import MMMUProScorer
from mmreason.eval.scorers.wemath import WeMathScorer, tagged_answers

#: every flag a verdict may carry
FLAGS = {"needs_judge", "random_guess", "no_answer", OVER_BOUND}
#: per-call limit on a 100k-character response (the target is well under 0.1 s); over it, the scaling decides
LIMIT_S = 0.5


@dataclass(frozen=True)
class ScorerCase:
    """A scorer to fuzz and the benchmark rows to score against."""

    name: str
    factory: Callable[[], Scorer]
    docs: Sequence[dict[str, Any]]


_VISTA = {"pid": "1", "question": "q", "unit": None, "metadata": {}, "precision": None, "choices": None}
_VERSE_Q = "Find the angle.\nChoices:\nA:40°\nB:60°\nC:120°\nD:$5 \\mathrm{~cm}$"
CASES = [
    ScorerCase("mathvista", MathVistaScorer, (
        {**_VISTA, "choices": ["hong kong", "osaka", "shanghai", "tokyo"], "answer": "tokyo",
         "question_type": "multi_choice", "answer_type": "text"},
        {**_VISTA, "answer": "3", "question_type": "free_form", "answer_type": "integer"},
        {**_VISTA, "answer": "1.45", "question_type": "free_form", "answer_type": "float", "precision": 2.0},
        {**_VISTA, "answer": "[1, 2]", "question_type": "free_form", "answer_type": "list"},
    )),
    ScorerCase("mathverse", MathVerseScorer, (
        {"question": _VERSE_Q, "answer": "C", "question_type": "multi-choice", "metadata": {}},
        {"question": "Find L.", "answer": "4.6", "question_type": "free-form", "metadata": {}},
        {"question": "Find L.", "answer": "2\\sqrt{3}", "question_type": "free-form", "metadata": {}},
    )),
    ScorerCase("mmmu", MMMUScorer, (
        {"id": "validation_Art_1", "options": "['dog', 'A cat', 'bird', 'fish']", "answer": "B",
         "question_type": "multiple-choice"},
        {"id": "validation_Math_1", "options": "[]", "answer": "-12.5", "question_type": "open"},
    )),
    ScorerCase("mmmu_pro", MMMUProScorer, (
        {"id": "test_History_1", "options": str([f"option {i}" for i in range(10)]), "answer": "C",
         "subject": "History"},
    )),
    ScorerCase("wemath", WeMathScorer, (
        {"ID": "2steps_1", "key": "2steps_1", "question": "q", "option": "A. 300;B. 400;C. 3000;D. 4000",
         "answer": "C"},
    )),
]  # fmt: skip

_PIECES = [
    " ", "\t", "\n", "1", "9", ".", "*", "-", ",", "{", "}", "(", ")", "=", "A", "B", "$", "^", "/", "\\", "%",
    "\u2212", "\u00a0", "\u2003", "\u03c0", "\u221a", "\u00b2", "\U0001f600", "\u0130", "\u017f", "\ufeff",
    "<answer>", "</answer>", "<Answer>: <<", ">>", "</think>", "\\boxed{", "\\frac{", "\\mathrm{~cm}", "\\sqrt",
    "\\text{", "Answer:", "The answer is ", 'The answer is "', '".', "Choice ", "Option ", "x = ", "1e999",
    "9" * 400, "1,000", "cm^2", " units", "(C)",
]  # fmt: skip
_RUN = st.tuples(st.sampled_from(_PIECES), st.integers(1, 300)).map(lambda piece: piece[0] * piece[1])
RESPONSES = st.lists(st.one_of(_RUN, st.text(max_size=30)), max_size=12).map("".join)

#: adversarial 100k-character responses: long runs, unclosed tags, nested braces, huge numbers
N = 100_000


def adversarial(N: int) -> dict[str, str]:
    """The adversarial responses at size `N` (the same patterns at another size for the scaling check)."""
    return {
    "spaces": "Answer: a" + " " * N + "b", "spaces_unit": "Answer: 5" + " " * N + "cm x", "tabs": "Answer: a" +
    "\t" * N + "b", "digits": "1" * N, "digits_tail": "The answer is " + "1" * N + "a", "dots": "Answer: 5" +
    "." * N + "a", "stars": "Answer: " + "* " * (N // 2) + "x", "answer_tags": "<answer>" * (N // 8),
    "answer_tags_text": "<answer> x" * (N // 10), "wemath_tags": "<Answer>: << " * (N // 13), "boxed": "\\boxed{"
    * (N // 7), "braces": "{" * N, "quick": 'The answer is "' * (N // 15), "quick_long": 'The answer is "' + "x" * N
    + '".', "thousands": "111," * (N // 4) + "1111", "scientific": "1" * N + "e", "equals": "a " * (N // 2) + "x",
    "letters": "A " * (N // 2), "lines": "B\n" * (N // 2), "think": "</think>" * (N // 8), "fraction": "Answer: " +
    "9" * 400 + "/7", "latex_fraction": "\\boxed{\\frac{" + "9" * 400 + "}{7}}", "unicode": "\u2212\u00b2\u03c0"
    "\u221a\u0130" * (N // 5), "letter_line": "A. " + " " * N + "\nx", "decimals": "1." * (N // 2),
}  # fmt: skip


ADVERSARIAL = adversarial(N)

PARAMS = [pytest.param(case, mode, id=f"{case.name}-{mode}") for case in CASES for mode in MODES]


def check(verdict: Verdict) -> None:
    assert isinstance(verdict, Verdict) and isinstance(verdict.correct, bool)
    assert verdict.extracted is None or isinstance(verdict.extracted, str)
    assert set(verdict.flags) <= FLAGS, verdict.flags


@pytest.mark.parametrize(("case", "mode"), PARAMS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(response=RESPONSES)
def test_fuzz_never_raises(case, mode, response):
    scorer = case.factory()
    for doc in case.docs:
        start = time.perf_counter()
        check(scorer.score(response, doc, mode))
        assert time.perf_counter() - start < LIMIT_S


@pytest.mark.parametrize(("case", "mode"), PARAMS)
def test_adversarial_100k_responses_are_fast(case, mode):
    scorer, slow = case.factory(), {}
    for name, response in ADVERSARIAL.items():
        for doc in case.docs:
            start = time.perf_counter()
            check(scorer.score(response, doc, mode))
            elapsed = time.perf_counter() - start
            if elapsed > LIMIT_S and not _scales_linearly(scorer, name, doc, mode, elapsed):
                slow[name] = round(elapsed, 3)
    assert not slow, slow


def _scales_linearly(scorer: Scorer, name: str, doc: dict[str, Any], mode: str, elapsed: float) -> bool:
    """Over the limit (a loaded machine, a GC pause?): timed again, the faster of the two counts; still over it, the
    same pattern at a quarter of the size must take more than an eighth of the time (linear: a quarter; quadratic:
    a sixteenth), so only super-linear scorers fail."""
    start = time.perf_counter()
    check(scorer.score(adversarial(N)[name], doc, mode))
    elapsed = min(elapsed, time.perf_counter() - start)
    if elapsed <= LIMIT_S:
        return True
    start = time.perf_counter()
    check(scorer.score(adversarial(N // 4)[name], doc, mode))
    return elapsed < 8 * max(time.perf_counter() - start, 1e-3)


@pytest.mark.parametrize(("case", "mode"), PARAMS)
def test_past_the_length_bound_is_a_flagged_miss(case, mode):
    verdict = case.factory().score("B" * (MAX_RESPONSE_CHARS + 1), case.docs[0], mode)
    assert verdict == Verdict(False, None, [OVER_BOUND])


@pytest.mark.parametrize(
    ("case", "doc_index"), [(CASES[0], 1), (CASES[0], 2), (CASES[1], 1), (CASES[2], 1)], ids=lambda x: str(x)[:12]
)
@pytest.mark.parametrize("response", ["Answer: " + "9" * 400 + "/7", "\\boxed{\\frac{" + "9" * 400 + "}{7}}"])
def test_huge_fraction_is_over_bound_not_overflow(case, doc_index, response):
    """Strict MathVista/MathVerse/MMMU raised OverflowError on a 400-digit numerator."""
    assert case.factory().score(response, case.docs[doc_index], "strict") == Verdict(False, None, [OVER_BOUND])


def test_mathvista_official_long_snap_is_over_bound():
    """The official Levenshtein snap of a 30k-character quick extraction would read past `MAX_EDIT_CHARS`."""
    verdict = MathVistaScorer().score('The answer is "' + "x" * 30_000 + '".', CASES[0].docs[0], "official")
    assert verdict == Verdict(False, None, [OVER_BOUND])


# -- the linear rewrites find exactly what the quadratic regexes they replace find --------------------------------
# references: the regexes as written in the official code (MMMU `eval_utils.extract_numbers`, MathVista
# `extract_answer.py` quick extract) and the former strict-mode tag patterns
_OFFICIAL_NUMBERS = (
    re.compile(r"-?\b\d{1,3}(?:,\d{3})+\b"), re.compile(r"-?\d+(?:\.\d+)?[eE][+-]?\d+"),
    re.compile(r"-?(?:\d+\.\d+|\.\d+|\d+\b)(?![eE][+-]?\d+)(?![,\d])"),
)  # fmt: skip
SHORT = st.text(alphabet=st.sampled_from([*'0123456789.,-+eE a"\n<>/:Answer', "\u0660"]), max_size=40)


@settings(max_examples=400, deadline=None)
@given(text=SHORT)
def test_extract_numbers_equals_the_official_regexes(text):
    assert extract_numbers(text) == [n for pattern in _OFFICIAL_NUMBERS for n in pattern.findall(text)]


@settings(max_examples=300, deadline=None)
@given(text=st.lists(st.sampled_from(['The answer is "', '".', '"', ".", "x", "\n", " "]), max_size=15).map("".join))
def test_quick_extract_equals_the_official_regex(text):
    match = re.search(r'The answer is "(.*)"\.', text)
    assert quick_extract(text) == (match.group(1) if match else None)


@settings(max_examples=300, deadline=None)
@given(text=st.lists(st.sampled_from(["<answer>", "</answer>", "<ANSWER>", "x", " ", "\n"]), max_size=12).map("".join))
def test_answer_tags_equal_findall(text):
    assert answer_tags(text) == re.findall(r"<answer>(.*?)</answer>", text, flags=re.DOTALL | re.IGNORECASE)


@settings(max_examples=300, deadline=None)
@given(text=st.lists(st.sampled_from(["<Answer>", ":", "<<", ">>", ">", "B", " ", "\n"]), max_size=14).map("".join))
def test_wemath_tags_equal_findall(text):
    assert tagged_answers(text) == re.findall(r"<Answer>\s*:?\s*<<\s*(.*?)\s*>>", text, flags=re.DOTALL)


def _edit_distance(a: str, b: str) -> int:
    """Textbook dynamic programme (the reference for the bit-parallel `levenshtein`)."""
    row = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        diagonal, row[0] = row[0], i
        for j, char_b in enumerate(b, 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (char_a != char_b))
    return row[-1]


@settings(max_examples=400, deadline=None)
@given(a=st.text(alphabet="abcé ", max_size=70), b=st.text(alphabet="abcé ", max_size=70))
def test_levenshtein_equals_the_dynamic_programme(a, b):
    assert levenshtein(a, b) == _edit_distance(a, b)
