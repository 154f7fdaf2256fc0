"""MMMU scorer: official parser verdicts (expected values came from running the official
`MMMU-Benchmark/MMMU` `mmmu/utils/eval_utils.py` on the same inputs) and the strict mode."""

from __future__ import annotations

import time

import pytest

from mmreason.eval.scorers.base import Verdict
from mmreason.eval.scorers.mmmu import (
    DISCIPLINES,
    MMMUScorer,
    gold_answers,
    official_open,
    parse_options,
    subject_of,
)

OPTIONS = ["dog", "A cat", "bird", "fish"]


def mc(answer: str = "B", options: list[str] = OPTIONS, **extra: object) -> dict[str, object]:
    return {"id": "validation_Art_Theory_3", "options": str(options), "answer": answer,
            "question_type": "multiple-choice", **extra}  # fmt: skip


def open_doc(answer: object) -> dict[str, object]:
    return {"id": "validation_Math_1", "options": "[]", "answer": str(answer), "question_type": "open"}


# (response, official letter from the official parser, strict letter or None)
MC_CASES = [
    ("B", "B", "B"),
    ("(C)", "C", "C"),
    ("The answer is (B).", "B", "B"),
    ("The answer is A cat", "A", "B"),  # official reads the article "A" as a letter; strict matches the option text
    ("It is A cat, not a dog.", "A", None),
    ("I think it could be B, but the answer is C.", "C", "C"),  # last letter mentioned wins
    ("A or B? The final answer is D", "D", "D"),
    ("Option B is wrong; the correct one is (A) and not (C)", "C", None),  # last bracketed letter; no final answer
    ("After careful thought I would say the animal is a bird", "C", None),  # option text in a >5-word response
    ("B. A cat", "A", "B"),  # " A " beats the leading "B." in the official parser
]


@pytest.mark.parametrize(("response", "official", "strict"), MC_CASES)
def test_multiple_choice_letters(response: str, official: str, strict: str | None) -> None:
    scorer = MMMUScorer()
    verdict = scorer.score(response, mc(), "official")
    assert (verdict.extracted, verdict.correct, verdict.flags) == (official, official == "B", [])
    verdict = scorer.score(response, mc(), "strict")
    assert (verdict.extracted, verdict.correct) == (strict, strict == "B")
    assert verdict.flags == ([] if strict else ["no_answer"])


@pytest.mark.parametrize(
    ("response", "strict"),
    [
        ("The final answer is $\\boxed{C}$.", "C"),  # only 5 words: the official parser finds nothing
        ("**Answer: B**", "B"),
        ("The answer is bird.", "C"),
        ("b", "B"),
        ("I cannot determine this from the image.", None),
        ("", None),
    ],
)
def test_official_random_guess_is_flagged_and_strict_never_guesses(response: str, strict: str | None) -> None:
    scorer = MMMUScorer()
    verdict = scorer.score(response, mc(), "official")
    assert verdict.flags == ["random_guess"]
    assert verdict.extracted == "A"  # random.Random(42).choice("ABCD"), as the official random.seed(42)
    assert verdict.correct is False
    verdict = scorer.score(response, mc(), "strict")
    assert verdict.extracted == strict
    assert verdict.flags == ([] if strict else ["no_answer"])


def test_random_guess_is_reproducible_per_instance() -> None:
    guesses = [
        [s.score("no idea", mc(), "official").extracted for _ in range(6)] for s in (MMMUScorer(), MMMUScorer())
    ]
    assert guesses[0] == guesses[1]
    assert MMMUScorer(seed=1).score("no idea", mc(), "official").flags == ["random_guess"]


def test_list_literal_gold_for_multiple_choice() -> None:
    scorer = MMMUScorer()
    assert scorer.score("(D)", mc(answer="['B', 'D']"), "official").correct
    assert scorer.score("D", mc(answer="['B', 'D']"), "strict").correct
    assert gold_answers("['24/7', '3.429']") == ["24/7", "3.429"]
    assert gold_answers("B") == ["B"] and gold_answers(["x", 1]) == ["x", "1"]


# (response, gold, official verdict from the official eval_open, strict verdict)
OPEN_CASES = [
    ("The total is 1,234 dollars.", "1234", True, True),
    ("The answer is 45%.", "45", True, True),
    ("Therefore, the length is 12.5 cm", "12.5", True, True),
    ("The answer is 7,243,000.", "7243000", True, True),
    ("The answer is 7,243,000", "0", True, False),  # official also reads the "000" group as the number 0
    ("It is 1.5e3 N", "1500", True, True),
    ("x = 5", "5", True, True),
    ("There are 14 apples", "4", False, False),
    ("6.33", "6.333", True, True),  # floats rounded to 2 decimals
    ("6.3", "6.333", False, False),
    ("0.0034", "0.0012", True, False),  # both round to 0.0 officially; strict keeps 3 significant figures
    ("8.4", "8", False, False),
    ("The answer is concatenation", "cat", True, False),  # official: gold is a substring of the response
    ("The city is not Tampa but Miami", "Tampa", True, False),
    ("C", "C", True, True),
    ("MgS", "$MgS$", False, True),  # strict drops LaTeX dollars
    ("3.43", "['24/7', '3.429']", True, True),
    ("24/7", "['24/7', '3.429']", True, True),
    ("Florida", "['Tampa', 'Florida']", True, True),
    ("so the answer is 4 apples", "4", True, True),
]


@pytest.mark.parametrize(("response", "gold", "official", "strict"), OPEN_CASES)
def test_open_answers(response: str, gold: str, official: bool, strict: bool) -> None:
    scorer = MMMUScorer()
    assert scorer.score(response, open_doc(gold), "official").correct is official
    verdict = scorer.score(response, open_doc(gold), "strict")
    assert verdict.correct is strict
    assert verdict.flags == []


def test_open_official_parse_and_strict_needs_an_answer() -> None:
    # official parse_open_response gives {7243000.0, 0.0} and {'1,234 dollars', 1234.0, 234.0}
    assert set(official_open("The answer is 7,243,000")) == {7243000.0, 0.0}
    assert set(official_open("The total is 1,234 dollars.")) == {"1,234 dollars", 1234.0, 234.0}
    cot = "First compute the area.\nThen we get 20 square meters"
    scorer = MMMUScorer()
    assert scorer.score(cot, open_doc("20"), "official").correct  # official: True
    assert scorer.score(cot, open_doc("20"), "strict") == Verdict(False, None, ["no_answer"])
    assert scorer.score(cot + "\nThe final answer is 20 m^2", open_doc("20"), "strict").correct


def test_prompt_and_images() -> None:
    scorer = MMMUScorer()
    doc = mc(question="Which animal is in <image 2> and <image 1>?", options="['<image 1>', 'cat', '<image 3>']",
             image_1="one", image_2="two", image_3=None)  # fmt: skip
    assert scorer.prompt(doc) == (
        "Which animal is in <image 2> and <image 1>?\nA. <image 1>\nB. cat\nC. <image 3>\n\n"
        "Answer with the option's letter from the given choices directly."
    )
    assert scorer.images(doc) == ["two", "one"]
    open_row = {**open_doc("5"), "question": "How many?"}
    assert scorer.prompt(open_row) == "How many?\n\nAnswer the question using a single word or phrase."
    assert parse_options("['a', 'b']") == ("a", "b") and parse_options(["a"]) == ("a",) and parse_options("[]") == ()


def test_aggregate_subjects_and_disciplines() -> None:
    ids = ["validation_Art_Theory_1", "validation_Art_Theory_2", "validation_Music_1", "validation_Math_4"]
    docs = [{"id": i} for i in ids] + [{"id": "dev_Computer_Science_12"}]
    verdicts = [Verdict(True), Verdict(False), Verdict(True), Verdict(True, flags=["random_guess"]), Verdict(False)]
    result = MMMUScorer().aggregate(docs, verdicts)
    assert result["accuracy"] == pytest.approx(3 / 5) and result["count"] == 5
    assert result["flags"] == {"random_guess": 1}
    assert result["subject"]["Art_Theory"] == {"accuracy": 0.5, "count": 2}
    assert result["discipline"] == {
        "Art and Design": {"accuracy": pytest.approx(2 / 3), "count": 3},
        "Science": {"accuracy": 1.0, "count": 1},
        "Tech and Engineering": {"accuracy": 0.0, "count": 1},
    }
    assert sum(len(v) for v in DISCIPLINES.values()) == 30
    assert subject_of({"id": "validation_Diagnostics_and_Laboratory_Medicine_30"}) == (
        "Diagnostics_and_Laboratory_Medicine"
    )


def test_mode_is_checked() -> None:
    with pytest.raises(ValueError):
        MMMUScorer().score("A", mc(), "lenient")


def test_rule_path_is_fast() -> None:
    scorer = MMMUScorer()
    rows = [(r, mc()) for r, _, _ in MC_CASES] + [(r, open_doc(g)) for r, g, _, _ in OPEN_CASES]
    start = time.perf_counter()
    for _ in range(50):
        for response, doc in rows:
            scorer.score(response, doc, "official")
            scorer.score(response, doc, "strict")
    rate = 2 * 50 * len(rows) / (time.perf_counter() - start)
    assert rate > 2_000  # measured ~tens of thousands/s; loose bound for slow CI machines
