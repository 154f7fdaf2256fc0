"""DynaMath: the official rules (DynaMath's own gpt_4o_json_eval.py, as read from the code) vs strict; worst case."""

import math

import pytest

from mmreason.eval.scorers.dynamath import DynaMathScorer

MINUS = "\u2212"


def doc(qid, varid, gold, kind, subject="Geometry"):
    return {"id": f"{qid}-{varid}", "qid": qid, "varid": varid, "question": "q", "ground_truth": gold,
            "answer_type": kind, "subject": subject, "knowledge_level": "high school"}  # fmt: skip


F, M, T = doc(1, 1, "6.2832", "float"), doc(2, 1, "B", "multiple choice"), doc(3, 1, "12", "text")
CASES = [  # response, doc, official (hand-derived from the official script), strict
    ('{"solution": "r = 1", "short answer": "6.2832"}', F, True, True),
    ('{"solution": "C = 2 pi r", "short answer": "2π"}', F, True, True),
    ('{"solution": "C = 2\\pi r", "short answer": "6.2832"}', F, False, True),  # "\p" is invalid JSON
    ('{"short answer": "π"}', doc(1, 2, "3.1416", "float"), False, True),  # float("") fails
    ('{"solution": "...", "short answer": "6.29"}', F, False, False),
    ("The circumference is \\boxed{6.2832}", F, False, True),  # not JSON: the sentinel "wait for check"
    ('Here it is: {"short answer": "6.2832"}', F, False, True),  # no stripping to the braces
    ('{"short answer": "B"}', M, True, True),
    ('{"short answer": "b"}', M, False, True),  # case-sensitive
    ('{"short answer": "(B) 12"}', M, True, True),  # gold among the first three characters
    ('{"short answer": "Blah blah"}', M, True, False),
    ('{"short answer": "B or C"}', M, True, False),
    ('{"short answer": "The answer is B"}', M, False, True),
    ("Blah blah", M, False, False),
    ('{"short answer": "12"}', T, True, True),
    ('{"short answer": "120"}', T, True, False),  # the gold is a substring of the answer
    ('{"short answer": "2"}', T, False, False),
    ('{"short answer": ""}', T, False, False),
    ("I do not know.", doc(3, 2, "c", "text"), True, False),  # "c" is in the sentinel "wait for check"
]


@pytest.mark.parametrize(("response", "row", "official", "strict"), CASES)
def test_verdicts(response, row, official, strict):
    scorer = DynaMathScorer()
    assert scorer.score(response, row, "official").correct is official
    assert scorer.score(response, row, "strict").correct is strict


def test_official_flags_what_the_official_script_cannot_grade():
    scorer = DynaMathScorer()
    verdict = scorer.score("It is about two pi.", F, "official")
    assert (verdict.correct, verdict.extracted, verdict.flags) == (False, "wait for check", ["invalid_json"])
    verdict = scorer.score('[{"short answer": "B"}]', M, "official")  # the official script dies on list.get
    assert (verdict.correct, verdict.flags) == (False, ["not_json_object"])


@pytest.mark.parametrize("mode", ["official", "strict"])
def test_unicode_minus_keeps_its_sign(mode):
    scorer = DynaMathScorer()
    reply = f'{{"short answer": "{MINUS}9"}}'
    assert scorer.score(reply, doc(4, 1, "9", "float"), mode).correct is False
    assert scorer.score(f"The answer is {MINUS}9.", doc(4, 1, "9", "float"), mode).correct is False
    assert scorer.score(f'{{"short answer": "y = {MINUS}3"}}', doc(5, 1, "y = 3", "text"), mode).correct is False
    if mode == "strict":
        assert scorer.score(reply, doc(4, 2, "-9", "float"), mode).correct is True


def test_deeply_nested_json_is_a_flagged_miss_not_a_recursion_error():
    scorer = DynaMathScorer()
    reply = '{"short answer": "B", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    official = scorer.score(reply, M, "official")
    assert not official.correct and official.flags == ["json_too_deep"]
    assert scorer.score(reply, M, "strict").correct  # the short answer is still read, without json.loads


def test_worst_case_accuracy_over_variants():
    scorer = DynaMathScorer()
    rows = [doc(q, v, "1.0", "float") for q in (1, 2) for v in range(3)]
    answers = ["1.0", "1.0", "1.0", "1.0", "2.0", "1.0"]  # seed 1 all right, seed 2 one variant wrong
    verdicts = [scorer.score(f'{{"short answer": "{a}"}}', r) for a, r in zip(answers, rows)]
    result = scorer.aggregate(rows, verdicts)
    assert result["average_accuracy"] == pytest.approx(5 / 6)
    assert result["worst_case_accuracy"] == 0.5 and result["seed_questions"] == 2


def test_prompt_asks_for_json():
    prompt = DynaMathScorer().prompt(F)
    assert prompt.startswith("## Question\n q") and "'short answer'" in prompt and "three-digit" in prompt
    assert math.isclose(float("6.2832"), 2 * math.pi, abs_tol=1e-3)
