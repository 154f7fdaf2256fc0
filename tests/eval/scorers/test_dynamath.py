"""DynaMath: official rules (VLMEvalKit's DynaMath_auxeval, as documented in the module) vs strict; worst case."""

import math

import pytest

from mmreason.eval.scorers.dynamath import DynaMathScorer


def doc(qid, varid, gold, kind, subject="Geometry"):
    return {"id": f"{qid}-{varid}", "qid": qid, "varid": varid, "question": "q", "ground_truth": gold,
            "answer_type": kind, "subject": subject, "knowledge_level": "high school"}  # fmt: skip


F, M, T = doc(1, 1, "6.283", "float"), doc(2, 1, "B", "multiple choice"), doc(3, 1, "12", "free form")
CASES = [  # response, doc, official, strict
    ('{"solution": "r = 1", "short answer": "6.283"}', F, True, True),
    ('{"solution": "C = 2\\pi r", "short answer": "2π"}', F, True, True),
    ('{"solution": "...", "short answer": "6.2834"}', F, True, True),
    ('{"solution": "...", "short answer": "6.29"}', F, False, False),
    ("The circumference is \\boxed{6.283}", F, False, True),  # official needs the LLM reformatter
    ('{"short answer": "B"}', M, True, True),
    ('{"short answer": "(B) 12"}', M, True, True),
    ("Blah blah", M, True, False),  # official: the only letter among A-E present ("B" of "Blah")
    ('{"short answer": "A or B"}', M, False, False),
    ('{"short answer": "12"}', T, True, True),
    ('{"short answer": "2"}', T, True, False),  # official: substring of the gold
    ('{"short answer": ""}', T, True, False),  # the empty string is a substring of everything
]


@pytest.mark.parametrize(("response", "row", "official", "strict"), CASES)
def test_verdicts(response, row, official, strict):
    scorer = DynaMathScorer()
    assert scorer.score(response, row, "official").correct is official
    assert scorer.score(response, row, "strict").correct is strict


def test_unparseable_float_needs_judge_in_official():
    verdict = DynaMathScorer().score("It is about two pi.", F, "official")
    assert not verdict.correct and verdict.flags == ["needs_judge"]


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
    assert math.isclose(float("6.283"), 2 * math.pi, abs_tol=1e-3)
