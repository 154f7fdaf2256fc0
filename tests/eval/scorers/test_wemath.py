"""We-Math: the official extraction (`evaluation/four_dimensional_metrics.py`) vs strict, and the four-dimensional
metrics on a hand-computed set."""

import pytest

from mmreason.eval.scorers.wemath import WeMathScorer, official_letter, parse_options

OPTION = "A. 300, 400;B. 400, 300;C. 3000, 4000;D. 4000, 3000; E. No correct answer"


def row(problem, key, answer="C"):
    return {"ID": problem, "key": key, "question": "OA = ( ) m", "option": OPTION, "answer": answer,
            "knowledge concept": "Length units"}  # fmt: skip


CASES = [  # response, official, strict
    ("<Thought process>: <<1 km = 1000 m>> <Answer>: <<C>>", True, True),
    ("Answer: C", True, True),
    ("Answer: (C)", False, True),  # official takes the first character, "("
    ("the Answer is C.", False, True),  # official: "is C" starts with "i"
    ("Answer: Because C is right", False, False),  # official reads "B" from "Because"
    ("Answer: C and D", True, False),  # official stops at the first character
    ("3000, 4000", False, True),  # option text
    ("\\boxed{C}", False, True),
    ("I cannot decide.", False, False),
    ("Answer: F", False, False),  # not an option
]


@pytest.mark.parametrize(("response", "official", "strict"), CASES)
def test_verdicts(response, official, strict):
    scorer, doc = WeMathScorer(), row("2steps_1", "2steps_multi")
    assert scorer.score(response, doc, "official").correct is official
    assert scorer.score(response, doc, "strict").correct is strict


def test_official_extraction_and_options():
    assert official_letter("blah <Answer>: <<B>>") == "B" and official_letter("no marker D") is None
    assert parse_options(OPTION) == ["300, 400", "400, 300", "3000, 4000", "4000, 3000", "No correct answer"]


def test_four_dimensional_metrics_by_hand():
    scorer = WeMathScorer()
    # problem -> (sub answers right?, composite right?)
    plan = {"2steps_1": ([True, True], True),     # CM strict + loose
            "2steps_2": ([True, False], True),    # RM strict, CM loose
            "2steps_3": ([False, False], True),   # RM strict + loose
            "2steps_4": ([True, True], False),    # IG
            "3steps_1": ([True, False, True], False)}  # IK  # fmt: skip
    docs, verdicts = [], []
    for problem, (subs, multi) in plan.items():
        for role, ok in [*((str(i + 1), s) for i, s in enumerate(subs)), ("multi", multi)]:
            d = row(problem, f"{problem.split('_')[0]}_{role}")
            docs.append(d)
            verdicts.append(scorer.score("Answer: C" if ok else "Answer: A", d))
    result = scorer.aggregate(docs, verdicts)
    strict, loose = result["four_dim_strict"], result["four_dim_loose"]
    assert strict["counts"] == {"IK": 1, "IG": 1, "CM": 1, "RM": 2, "problems": 5}
    assert loose["counts"] == {"IK": 1, "IG": 1, "CM": 2, "RM": 1, "problems": 5}
    assert strict["score"] == pytest.approx((5 - 0.5 - 2 - 1) / 5) and loose["score"] == pytest.approx(
        (5 - 0.5 - 1 - 1) / 5
    )
    assert strict["RM"] == pytest.approx(2 / 3) and loose["RM"] == pytest.approx(1 / 3)
    assert result["two_step_accuracy"] == 0.75 and result["three_step_accuracy"] == 0.0
    assert result["one_step_accuracy"] == pytest.approx(7 / 11)
