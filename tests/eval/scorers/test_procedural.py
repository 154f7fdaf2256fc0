"""The `procedural` scorer: the last "Final answer:" line read strictly (hand cases), the same in both modes,
bounded and never raising (fuzz)."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmreason.eval.benchmarks import get_benchmark
from mmreason.eval.scorers.base import MAX_RESPONSE_CHARS
from mmreason.eval.scorers.procedural import ProceduralScorer

SCORER = ProceduralScorer()
DOC = {"id": "clock-hard-0-000002", "view": "vision", "question": "What time will it be 1 hour later?",
       "choices": [], "answer": "8:15"}  # fmt: skip
CHOICE_DOC = {"id": "bars-easy-0-000001", "question": "Which bar is the tallest?", "choices": ["A", "B", "C", "D"],
              "answer": "B"}  # fmt: skip


@pytest.mark.parametrize(
    ("response", "doc", "correct", "extracted", "flags"),
    [
        ("The clock shows 7:15.\nAdd 1 hour: 8:15.\nFinal answer: 8:15", DOC, True, "8:15", []),
        ("Final answer: 8:15.", DOC, True, "8:15", []),
        ("**Final answer: 8:15**", DOC, True, "8:15", []),
        ("final answer:   8:15  \nthanks", DOC, True, "8:15", []),
        ("Final answer: 7:15\nWait.\nFinal answer: 8:15", DOC, True, "8:15", []),  # the last one counts
        ("Final answer: 8:15\nFinal answer: 7:15", DOC, False, "7:15", []),
        ("The answer is 8:15.", DOC, False, None, ["no_answer"]),  # no "Final answer:" line: nothing is read
        ("Final answer:", DOC, False, None, ["no_answer"]),
        ("Final answer: 8:15 or 9:15", DOC, False, "8:15 or 9:15", []),
        ("Final answer: 08:15", DOC, False, "08:15", []),  # exact, not by value
        ("Final answer: b", CHOICE_DOC, True, "b", []),  # case-insensitive
        ("Final answer: Bar B", CHOICE_DOC, False, "Bar B", []),
        ("Final answer: B, C", CHOICE_DOC, False, "B, C", []),
        (None, DOC, False, None, ["no_answer"]),
        ("Final answer: " + "9" * 400, DOC, False, None, ["over_bound"]),
        ("x" * (MAX_RESPONSE_CHARS + 1), DOC, False, None, ["over_bound"]),
    ],
)
def test_hand_cases(response, doc, correct, extracted, flags):
    for mode in ("strict", "official"):
        verdict = SCORER.score(response, doc, mode)
        assert (verdict.correct, verdict.extracted, verdict.flags) == (correct, extracted, flags), mode


def test_prompt_adds_the_choices_and_the_instruction_and_the_benchmark_is_registered():
    assert SCORER.prompt(CHOICE_DOC) == ('Which bar is the tallest?\nChoices: A, B, C, D.\n'
                                         'Think step by step, then end with "Final answer: <answer>".')  # fmt: skip
    assert SCORER.prompt(DOC).splitlines()[0] == DOC["question"]
    bench = get_benchmark("procedural")
    assert isinstance(bench.scorer(), ProceduralScorer) and bench.key_fields == ("id", "view")
    assert bench.row_key(DOC) == "clock-hard-0-000002/vision"
    with pytest.raises(ValueError, match="mode"):
        SCORER.score("Final answer: 8:15", DOC, "lenient")


_TEXT = st.text(st.characters(codec="utf-8"), max_size=300)
_ANSWERS = st.text(st.characters(codec="utf-8", exclude_characters="\n"), min_size=1, max_size=20).filter(
    lambda a: a.strip().strip("*`").strip() == a and a[-1] != "."
)


@settings(max_examples=300, deadline=None)
@given(prefix=_TEXT, gold=_ANSWERS, wrong=_ANSWERS)
def test_fuzz_the_last_final_answer_line_decides(prefix, gold, wrong):
    doc = {**DOC, "answer": gold}
    for mode in ("strict", "official"):
        assert SCORER.score(f"{prefix}\nFinal answer: {gold}", doc, mode).correct
        assert SCORER.score(f"{prefix}\nFinal answer: {gold}.", {**doc, "answer": f" {gold}. "}, mode).correct
        verdict = SCORER.score(f"{prefix}\nFinal answer: {wrong}", doc, mode)
        assert verdict.correct == (wrong.casefold() == gold.casefold())
        if not re.search("final answer:", prefix, re.IGNORECASE):  # nothing after the answer line overrides it
            assert SCORER.score(f"Final answer: {gold}\n{prefix}", doc, mode).correct


@settings(max_examples=300, deadline=None)
@given(response=st.one_of(_TEXT, st.binary(max_size=50), st.integers(), st.none()), gold=_ANSWERS)
def test_fuzz_never_raises(response, gold):
    for mode in ("strict", "official"):
        verdict = SCORER.score(response, {**DOC, "answer": gold}, mode)
        assert isinstance(verdict.correct, bool)
        assert verdict.correct == (verdict.extracted is not None and verdict.extracted.casefold() == gold.casefold())
        assert verdict.correct or verdict.flags in ([], ["no_answer"], ["over_bound"])
