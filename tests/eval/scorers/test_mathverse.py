"""MathVerse scorer: official quick match (everything else needs the judge) and the rule-based strict mode."""

import time

import pytest

from mmreason.eval.scorers.base import Verdict
from mmreason.eval.scorers.mathverse import (
    MathVerseScorer,
    canonical,
    gold_number,
    parse_options,
    truncate_response,
)

QUESTION = (
    "As shown in the figure, angle A = 80.0, then the size of angle CED is ()\nChoices:\nA:40°\nB:60°\nC:120°\nD:140°"
)
TRUE_FALSE = "True or False: the quickest way is through the playground.\nChoice:\nA. True\nB. False"


def row(answer, question=QUESTION, qtype="multi-choice", version="Text Dominant", subfield="Angle"):
    return {
        "sample_index": "1", "problem_index": "1", "problem_version": version, "question": question,
        "image": "image_1.png", "answer": answer, "question_type": qtype,
        "metadata": {"split": "testmini", "source": "GeoQA", "subject": "Plane Geometry", "subfield": subfield},
        "query_wo": f"Please directly answer.\nQuestion: {question}",
        "query_cot": f"Please first conduct reasoning.\nQuestion: {question}",
    }  # fmt: skip


def free(answer, version="Vision Only", subfield="Length"):
    return row(answer, "Find L.", "free-form", version, subfield)


MC_C = row("C")

# (response, doc, extracted, correct, flags) of the strict ("mathverse (rule)") mode
STRICT = [
    ("C", MC_C, "C", True, []),
    ("Answer: C", MC_C, "C", True, []),
    ("The answer is C:120°", MC_C, "C", True, []),
    ("Answer: 120°", MC_C, "C", True, []),  # option text instead of the letter
    ("Answer: 120", MC_C, "C", True, []),
    ("\\boxed{C}", MC_C, "C", True, []),
    ("**Answer:** (C)", MC_C, "C", True, []),
    ("Many steps of reasoning about parallel lines\nTherefore (C).", MC_C, "C", True, []),
    ("Answer: B", MC_C, "B", False, []),
    ("Answer: B or C", MC_C, None, False, ["no_answer"]),  # several letters
    ("I don't know which angle this is, the figure is unclear to me.", MC_C, None, False, ["no_answer"]),
    ("Answer: E", row("E", ""), "E", True, []),  # Vision Only: no choices block in the text
    ("Answer: (C)", row("(C)"), "C", True, []),
    ("Answer: B", row("False", TRUE_FALSE), "B", True, []),  # gold given as option text
    ("Answer: False", row("False", TRUE_FALSE), "B", True, []),
    ("Answer: C and D", row("C\nD"), "C,D", True, []),  # several correct options
    ("Answer: C", row("C\nD"), "C", False, []),
    ("Answer: 14", free("14"), "14", True, []),
    ("Answer: 14 cm", free("14"), "14", True, []),
    ("L = 14.32", free("14"), "14.32", False, []),
    ("\\boxed{22.32}", free("22.3"), "22.32", True, []),  # rounds to the answer's one decimal
    ("\\boxed{22.36}", free("22.3"), "22.36", False, []),
    ("Answer: 2,191.7 metres", free("2191.7 metres"), "2191.7", True, []),
    ("Answer: 113.1 cm^2", free("Area $=113.1 \\mathrm{~cm}^{2}$"), "113.1", True, []),
    ("Answer: $A = 113.1\\text{ cm}^2$", free("Area $=113.1 \\mathrm{~cm}^{2}$"), "113.1", True, []),
    ("Answer: 9π cm²", free("Area $=9 \\pi \\mathrm{cm}^{2}$"), "9π cm²", True, []),
    ("Answer: 9", free("Area $=9 \\pi \\mathrm{cm}^{2}$"), "9", False, []),  # 9π is not 9
    ("\\boxed{4\\sqrt{3}}", free("4\\sqrt{3}"), "4\\sqrt{3}", True, []),
    ("Answer: 4√3", free("4\\sqrt{3}"), "4√3", True, []),
    ("Answer: 6.93", free("4\\sqrt{3}"), "6.93", False, []),
    ("\\boxed{\\dfrac{\\sqrt{30}}{2}}", free("\\frac{\\sqrt{30}}{2}"), "\\dfrac{\\sqrt{30}}{2}", True, []),
    ("Answer: S 23.5° W", free("S 23.5 ^\\circ W"), "S 23.5° W", True, []),
    ("Answer: N 23.5° E", free("S 23.5 ^\\circ W"), "N 23.5° E", False, []),  # a bearing is not just 23.5
    ("Answer: 329°T", free("329° T"), "329", True, []),
    ("Answer: 60°", free("60^\\circ "), "60", True, []),
    ("Answer: 50%", free("50"), "50", True, []),
    ("Answer: 1,000", free("1000"), "1000", True, []),
    ("Answer: 0.5 m", free("50 cm"), "0.5", False, []),  # the judge would accept; rules do not convert units
    ("\\boxed{y = -x^2 - 2x + 1}", free("f(x) = -x^2 - 2x + 1"), "y = -x^2 - 2x + 1", True, []),
    ("Answer: 3/4", free("\\frac{3}{4}"), "0.75", True, []),
    ("Answer: 0.75", free("\\frac{3}{4}"), "0.75", True, []),
    ("I am not sure how to compute the length from this figure.", free("14"), None, False, ["no_answer"]),
    ("Answer: L ≈ √205 ≈ 14.32", free("14.32"), "14.32", True, []),
    # an equation is not reduced to its right-hand side
    ("\\boxed{x^2 + y^2 = 1}", free("\\frac{x^2}{81} + \\frac{y^2}{9} = 1"), "x^2 + y^2 = 1", False, []),
    (
        "\\boxed{\\frac{x^2}{81}+\\frac{y^2}{9}=1}",
        free("\\frac{x^2}{81} + \\frac{y^2}{9} = 1"),
        "\\frac{x^2}{81}+\\frac{y^2}{9}=1",
        True,
        [],
    ),
]

# (response, answer, trunk_response, quick-match verdict) obtained by running the official ZrrSkywalker/MathVerse
# functions evaluation/extract_answer_s1.py::trunk_response and score_answer_s2.py::match_answer(quick_match=True),
# with the truncated, stripped response standing in for the GPT extraction ("1": correct; "0": needs the judge).
OFFICIAL = [
    ("B", "B", -1, "1"),
    (" B\n", "B", -1, "1"),
    ("b", "B", -1, "0"),
    ("(B)", "B", -1, "0"),
    ("The answer is B", "B", 1, "1"),
    ("The answer is B", "B", -1, "0"),
    ("so  14", "14", 1, "1"),
    ("x\n14", "14", 1, "0"),  # words are split on single spaces, not newlines
    ("14", "14 ", -1, "0"),  # the answer is not stripped
    ("", "B", -1, "0"),
    ("Answer: 4\\sqrt{3}", "4\\sqrt{3}", 1, "1"),
]


@pytest.fixture(scope="module")
def scorer():
    return MathVerseScorer()


@pytest.mark.parametrize(("response", "doc", "extracted", "correct", "flags"), STRICT)
def test_strict(scorer, response, doc, extracted, correct, flags):
    assert scorer.score(response, doc, "strict") == Verdict(correct, extracted, flags)


@pytest.mark.parametrize(("response", "answer", "trunk", "quick"), OFFICIAL)
def test_official_quick_match(response, answer, trunk, quick):
    verdict = MathVerseScorer(trunk_response=trunk).score(response, free(answer), "official")
    if quick == "1":
        assert verdict == Verdict(True, truncate_response(response, trunk).strip(), [])
    else:
        assert verdict == Verdict(False, None, ["needs_judge"])


def test_official_defers_what_strict_decides(scorer):
    assert scorer.score("Answer: C", MC_C, "official").flags == ["needs_judge"]
    assert scorer.score("Answer: C", MC_C, "strict").correct


def test_parse_options():
    assert parse_options(QUESTION) == ["40°", "60°", "120°", "140°"]
    assert parse_options(TRUE_FALSE) == ["True", "False"]
    assert parse_options("Choices:\n(A) 1\n(B) 2\n(C) 3") == ["1", "2", "3"]
    assert parse_options("Find L.") == [] and parse_options("") == []


def test_canonical_and_gold_number():
    assert canonical("$\\dfrac{\\sqrt 3}{2}$") == canonical("\\frac{√3}{2}")
    assert canonical("Area $=9 \\pi \\mathrm{cm}^{2}$") == canonical("9π") == "9\\pi"
    assert gold_number("Perimeter $=18.8 \\mathrm{~cm}$") == 18.8 and gold_number("4.6 m") == 4.6
    assert gold_number("S 23.5 ^\\circ W") is None and gold_number("4\\sqrt{6}") is None


def test_prompt_types():
    doc = MC_C
    assert MathVerseScorer().prompt(doc) == doc["query_cot"]
    assert MathVerseScorer(prompt_type="query_wo").prompt(doc) == doc["query_wo"]
    assert MathVerseScorer().prompt({"question": "Find L."}) == "Find L."
    with pytest.raises(ValueError):
        MathVerseScorer(prompt_type="query")


def test_aggregate_by_version_and_subfield(scorer):
    docs = [free("14", "Vision Only", "Length"), free("14", "Text Lite", "Length"), row("C", subfield="Angle")]
    verdicts = [scorer.score(r, d) for r, d in zip(["Answer: 14", "Answer: 15", "Answer: C"], docs)]
    table = scorer.aggregate(docs, verdicts)
    assert table["accuracy"] == pytest.approx(2 / 3)
    assert table["problem_version"]["Text Lite"] == {"accuracy": 0.0, "count": 1}
    assert table["subfield"] == {"Angle": {"accuracy": 1.0, "count": 1}, "Length": {"accuracy": 0.5, "count": 2}}
    assert table["subject"] == {"Plane Geometry": {"accuracy": pytest.approx(2 / 3), "count": 3}}


def test_strict_changes_listed():
    assert len(MathVerseScorer.STRICT_CHANGES) >= 4 and MathVerseScorer.name == "mathverse"


def test_math_verify_backend():
    pytest.importorskip("math_verify")
    scorer = MathVerseScorer(backend="math_verify")
    assert scorer.score("\\boxed{\\sqrt{48}}", free("4\\sqrt{3}")).correct
    assert not scorer.score("\\boxed{\\sqrt{47}}", free("4\\sqrt{3}")).correct


def test_rule_path_throughput(scorer):
    reasoning = "The segment AB is perpendicular to BC, so the triangle is right-angled at B. " * 12
    docs = (MC_C, free("4\\sqrt{3}"), free("14"))
    pairs = [(reasoning + end, d) for end in ("Answer: C", "\\boxed{14}", "(B)", "none") for d in docs] * 200
    start = time.perf_counter()
    for response, doc in pairs:
        scorer.score(response, doc, "strict")
    assert len(pairs) / (time.perf_counter() - start) > 2000  # ~20k/s measured; loose bound for slow CI machines
