"""DynaMath `official` against DynaMath's own grading code (verdicts computed outside the repo, see
fixtures/dynamath_official.md), and `strict` against the hand-decided truth of the same replies."""

import json
from pathlib import Path

import pytest

from mmreason.eval.scorers.dynamath import DynaMathScorer

CASES = json.loads((Path(__file__).parent / "fixtures" / "dynamath_official.json").read_text())["cases"]


def _doc(case):
    return {"ground_truth": case["ground_truth"], "answer_type": case["answer_type"]}


def test_fixture_covers_every_answer_type_and_outcome():
    assert len(CASES) >= 300
    assert {c["answer_type"] for c in CASES} == {"float", "multiple choice", "text", "int", "single answer"}
    outcomes = {c["official"].split(":")[0] for c in CASES}
    assert outcomes == {"correct", "fail", "crash"}


def test_official_mode_agrees_with_the_official_code_on_every_case():
    scorer = DynaMathScorer()
    disagreements = []
    for index, case in enumerate(CASES):
        verdict = scorer.score(case["response"], _doc(case), "official")
        crashed = case["official"].startswith("crash")
        if verdict.correct != (case["official"] == "correct") or crashed != ("not_json_object" in verdict.flags):
            disagreements.append((index, case["note"], case["official"], verdict))
    assert disagreements == []


def _errors(mode, subset):
    scorer = DynaMathScorer()
    cases = [c for c in CASES if c["set"] == subset]
    verdicts = [scorer.score(c["response"], _doc(c), mode).correct for c in cases]
    false_pos = sum(v and not c["truth"] for v, c in zip(verdicts, cases))
    false_neg = sum(c["truth"] and not v for v, c in zip(verdicts, cases))
    return false_pos, false_neg


@pytest.mark.parametrize("kind", ["false positives", "false negatives"])
def test_strict_is_far_more_often_right_than_official(kind):
    index = 0 if kind == "false positives" else 1
    official, strict = _errors("official", "adversarial")[index], _errors("strict", "adversarial")[index]
    assert official >= 30  # the official rules err both ways on this set (42 FP, 676 FN when written)
    assert strict <= official // 10, (kind, official, strict)


def test_strict_beats_official_on_the_held_out_replies():
    (official_fp, official_fn), (strict_fp, strict_fn) = _errors("official", "heldout"), _errors("strict", "heldout")
    assert official_fp >= 5 and official_fn >= 20  # 7 FP, 35 FN when written
    assert strict_fp <= official_fp // 5 and strict_fn <= official_fn // 4, (strict_fp, strict_fn)
