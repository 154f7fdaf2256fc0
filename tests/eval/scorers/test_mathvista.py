"""MathVista scorer: official pipeline (quirks included) and strict rule-based mode."""

import time

import pytest

from mmreason.eval.scorers.base import Verdict
from mmreason.eval.scorers.matching import levenshtein
from mmreason.eval.scorers.mathvista import (
    MathVistaScorer,
    answer_span,
    build_query,
    option_letter,
    to_number,
)

CITIES = ["hong kong", "osaka", "shanghai", "tokyo"]
ANGLES = ["135°", "140°", "145°", "150°"]


def doc(answer, qtype="free_form", atype="integer", choices=None, precision=None, **metadata):
    meta = {"category": "math-targeted-vqa", "task": "geometry problem solving", "skills": ["algebraic reasoning"]}
    meta.update(metadata)
    return {
        "pid": "1", "question": "What is x?", "image": "images/1.jpg", "choices": choices, "unit": None,
        "precision": precision, "answer": answer, "question_type": qtype, "answer_type": atype,
        "metadata": meta, "query": "Hint: ...\nQuestion: What is x?",
    }  # fmt: skip


MC = doc("tokyo", "multi_choice", "text", CITIES)
MC_ANGLE = doc("145°", "multi_choice", "text", ANGLES)
INT = doc("3")
INT_1000 = doc("1000")
INT_50 = doc("50")
FLOAT1 = doc("1.2", atype="float", precision=1.0)
FLOAT2 = doc("1.45", atype="float", precision=2.0)
FLOAT_075 = doc("0.75", atype="float", precision=2.0)
LIST = doc("[2014, 2016]", atype="list")

J = "judge"  # the official code would call the GPT-4 extractor here

# Expected (prediction, correct) obtained by running the official lupantech/MathVista functions
# (evaluation/extract_answer.py::extract_answer with quick_extract=True and a stub GPT model, then
# evaluation/calculate_score.py::normalize_extracted_answer and safe_equal, python-Levenshtein 0.27).
OFFICIAL = [
    ("", MC, ("osaka", False)),  # empty extraction snaps to the Levenshtein-closest (shortest) choice
    ("tokyo", MC, ("tokyo", True)),
    (" tokyo", MC, J),  # not exactly in choices
    ("D", MC, J),  # a bare letter is not a rule-1..5 extraction
    ('The answer is "D".', MC, ("tokyo", True)),
    ('The answer is "tokio".', MC, ("tokyo", True)),  # snapped by edit distance
    ('The answer is "(d) tokyo".', MC, ("tokyo", True)),
    ('The answer is "E".', MC, ("osaka", False)),  # out-of-range letter snaps to a choice
    ('The answer is "d".', MC, ("osaka", False)),  # lowercase letter is not an index
    ("The answer is D.", MC, J),
    ("145°", MC_ANGLE, ("145°", True)),
    ('The answer is "C".', MC_ANGLE, ("145°", True)),
    ('The answer is "145".', MC_ANGLE, ("145°", True)),
    ('The answer is "".', MC_ANGLE, ("135°", False)),
    ("3", INT, ("3", True)),
    (" 3 ", INT, ("3", True)),
    ("+3", INT, ("3", True)),
    ("3.0", INT, J),
    ('The answer is "3.9".', INT, ("3", True)),  # int(float("3.9")) truncates
    ("Answer: 3", INT, J),
    ("", INT, (None, False)),
    ('The answer is "1,000".', INT_1000, (None, False)),
    ("1_000", INT_1000, ("1000", True)),
    ('The answer is "1e3".', INT_1000, ("1000", True)),
    ("1.2", FLOAT1, ("1.2", True)),
    ("1.20", FLOAT1, ("1.2", True)),
    ("1.25", FLOAT1, ("1.2", True)),  # round(1.25, 1) == 1.2 in binary floating point
    ('The answer is "1.15".', FLOAT1, ("1.1", False)),
    ("1.2 cm", FLOAT1, J),
    ("1.449", FLOAT2, ("1.45", True)),
    ("nan", FLOAT2, ("nan", False)),
    ('The answer is "[2014, 2016]".', LIST, ("[2014, 2016]", True)),
    ('The answer is "[2014,2016]".', LIST, ("[2014,2016]", False)),  # list compared as strings
    ("[2014, 2016]", LIST, J),
    ('The answer is "3". Then The answer is "4".', INT, (None, False)),  # greedy quick-extract regex
]

# (response, doc, extracted, correct, flags) of the strict mode
STRICT = [
    ("", MC, None, False, ["no_answer"]),
    ("D", MC, "D", True, []),
    ("Tokyo.", MC, "D", True, []),  # exact option text
    ("The answer is D (tokyo).", MC, "D", True, []),
    ("**Answer:** D", MC, "D", True, []),
    ("Thus, the answer is (D).", MC, "D", True, []),
    ("\\boxed{\\text{D}}", MC, "D", True, []),
    ("The correct option is D.", MC, "D", True, []),
    ("Long reasoning about the plane and its livery...\nIt is the capital of Japan, so (D).", MC, "D", True, []),
    ('The answer is "tokio".', MC, None, False, ["no_answer"]),  # never snapped by edit distance
    ("Answer: A or D", MC, None, False, ["no_answer"]),  # several letters
    ("Either (A) or (D)", MC, None, False, ["no_answer"]),
    ("Answer: E", MC, None, False, ["no_answer"]),  # out of range
    ("Answer: C: 145°", MC_ANGLE, "C", True, []),
    ("Answer: 145", MC_ANGLE, "C", True, []),
    ("The answer is C. I hope it is correct.", MC_ANGLE, "C", True, []),
    ("Answer: B", MC_ANGLE, "B", False, []),
    ("Answer: (b)", doc("(b)", "multi_choice", "text", ["(c)", "(a)", "(b)"]), "C", True, []),  # pid 168-style options
    ("Answer: (B)", doc("(b)", "multi_choice", "text", ["(c)", "(a)", "(b)"]), "B", False, []),
    ("Answer: 18", doc("18", "multi_choice", "text", ["9", "12", "18", "18"]), "C", True, []),  # pid 781: duplicates
    ("Answer: D", doc("18", "multi_choice", "text", ["9", "12", "18", "18"]), "D", True, []),
    ("Answer: 3.9", INT, "3.9", False, []),  # no truncation
    ("Answer: 3.0", INT, "3", True, []),
    ("The answer is 3 apples.", INT, "3", True, []),
    ("x = 3", INT, "3", True, []),
    ("Reasoning...\n\nSo there are 3", INT, "3", True, []),
    ("Answer: 2x^2", INT, None, False, ["no_answer"]),  # symbolic, not the number 2
    ("Answer: 3 or 4", INT, None, False, ["no_answer"]),
    ("Answer: x^2 + y^2 = 3", INT, None, False, ["no_answer"]),  # an equation, not the value 3
    ("Answer: 1,000", INT_1000, "1000", True, []),
    ("Answer: 1000 g", INT_1000, "1000", True, []),
    ("The answer is $1000$.", INT_1000, "1000", True, []),
    ("Answer: 1,000.5", INT_1000, "1000.5", False, []),
    ("Answer: 50%", INT_50, "50", True, []),
    ("Answer: 50\\%", INT_50, "50", True, []),
    ("Answer: 0.5", INT_50, "0.5", False, []),
    ("Answer: 1.2 cm", FLOAT1, "1.2", True, []),
    ("Answer: 1.24", FLOAT1, "1.24", True, []),  # rounded to the row's precision
    ("Answer: 1.25", FLOAT1, "1.25", False, []),  # half-up: 1.3
    ("Answer: 1.15", FLOAT1, "1.15", True, []),  # half-up: 1.2 (official: "1.1")
    ("\\boxed{1.445}", FLOAT2, "1.445", True, []),
    ("\\boxed{\\frac{3}{4}}", FLOAT_075, "0.75", True, []),
    ("Final Answer: The final answer is $3/4$. I hope it is correct.", FLOAT_075, "0.75", True, []),
    ("Answer: 75%", FLOAT_075, "75", False, []),
    ("\\boxed{\\frac{\\sqrt{3}}{2}}", FLOAT_075, None, False, ["no_answer"]),
    ("The answer is [2014, 2016].", LIST, "[2014, 2016]", True, []),
    ("Answer: [2014,2016]", LIST, "[2014, 2016]", True, []),
    ("Answer: 2014, 2016", LIST, "[2014, 2016]", True, []),
    ("Answer: [2016, 2014]", LIST, "[2016, 2014]", False, []),
    ("So the list is\n[2014, 2016]", LIST, "[2014, 2016]", True, []),
    ("The peak is between 2014 and 2016, as the figure shows", LIST, None, False, ["no_answer"]),
]


@pytest.fixture(scope="module")
def scorer():
    return MathVistaScorer()


@pytest.mark.parametrize(("response", "row", "expected"), OFFICIAL)
def test_official_matches_official_code(scorer, response, row, expected):
    verdict = scorer.score(response, row, "official")
    if expected == J:
        assert verdict == Verdict(False, None, ["needs_judge"])
    else:
        assert (verdict.extracted, verdict.correct) == expected
        assert "needs_judge" not in verdict.flags


@pytest.mark.parametrize(("response", "row", "extracted", "correct", "flags"), STRICT)
def test_strict(scorer, response, row, extracted, correct, flags):
    assert scorer.score(response, row, "strict") == Verdict(correct, extracted, flags)


def test_quirks_differ_between_modes(scorer):
    truncated = 'The answer is "3.9".'
    assert scorer.score(truncated, INT, "official").correct and not scorer.score(truncated, INT, "strict").correct
    snapped = 'The answer is "tokio".'
    assert scorer.score(snapped, MC, "official").correct and not scorer.score(snapped, MC, "strict").correct
    assert scorer.score("", MC, "official").flags == ["no_answer"]


def test_quick_extract_off_defers_to_judge():
    assert MathVistaScorer(quick_extract=False).score('The answer is "D".', MC, "official").flags == ["needs_judge"]


def test_default_mode_is_strict_and_bad_mode_raises(scorer):
    assert scorer.score("D", MC).correct
    with pytest.raises(ValueError):
        scorer.score("D", MC, "lenient")
    with pytest.raises(ValueError):
        MathVistaScorer(backend="sympy")


def test_levenshtein():
    assert levenshtein("kitten", "sitting") == 3
    assert levenshtein("", "abc") == 3 and levenshtein("tokio", "tokyo") == 1 and levenshtein("°", "°") == 0


def test_helpers():
    assert answer_span("Let me think.\n\\boxed{12}") == "12"
    assert answer_span("x" * 40) is None
    assert to_number("Area $= 113.1 \\mathrm{~cm}^{2}$") == 113.1
    assert to_number("9\\pi") is None and to_number("4√3") is None
    assert option_letter("B:60°", ["40°", "60°"]) == "B" and option_letter("B:40°", ["40°", "60°"]) is None
    assert option_letter("E", ["40°", "60°"]) is None and option_letter("E", ["40°", "60°"], num_options=5) == "E"


def test_prompt_and_images(scorer):
    assert scorer.prompt(MC) == MC["query"]
    built = {k: v for k, v in MC_ANGLE.items() if k != "query"}
    assert scorer.prompt(built) == (
        "Hint: Please answer the question and provide the correct option letter, e.g., A, B, C, D, at the end.\n"
        "Question: What is x?\nChoices:\n(A) 135°\n(B) 140°\n(C) 145°\n(D) 150°"
    )
    unit = dict(FLOAT2, unit="cm", question="What is x? ")
    assert build_query(unit).startswith("Hint: Please answer the question requiring a floating-point number with two")
    assert build_query(unit).endswith("Question: What is x?  (Unit: cm)")
    assert scorer.images(MC) == [] and scorer.images(dict(MC, decoded_image="PIL")) == ["PIL"]


def test_aggregate_breakdown_and_skills(scorer):
    rows = [
        doc("3", skills=["arithmetic reasoning", "algebraic reasoning"], category="math-targeted-vqa"),
        doc("4", skills=["arithmetic reasoning"], category="general-vqa", task="figure question answering"),
        dict(MC, metadata=dict(MC["metadata"], category="general-vqa")),
    ]
    verdicts = [scorer.score(r, row) for r, row in zip(["Answer: 3", "Answer: 5", "Answer: D"], rows)]
    table = scorer.aggregate(rows, verdicts)
    assert table["accuracy"] == pytest.approx(2 / 3) and table["count"] == 3
    assert table["category"] == {
        "general-vqa": {"accuracy": 0.5, "count": 2},
        "math-targeted-vqa": {"accuracy": 1.0, "count": 1},
    }
    assert table["skills"]["arithmetic reasoning"] == {"accuracy": 0.5, "count": 2}
    assert table["skills"]["algebraic reasoning"] == {"accuracy": 1.0, "count": 2}
    assert table["question_type"]["multi_choice"] == {"accuracy": 1.0, "count": 1}
    official = scorer.aggregate(rows, [scorer.score("Answer: 3", row, "official") for row in rows])
    assert official["flags"] == {"needs_judge": 3}


def test_strict_changes_listed():
    assert len(MathVistaScorer.STRICT_CHANGES) >= 4 and MathVistaScorer.name == "mathvista"


def test_math_verify_backend():
    pytest.importorskip("math_verify")
    scorer = MathVistaScorer(backend="math_verify")
    assert scorer.score("\\boxed{\\sqrt{16}}", INT, "strict").correct is False
    assert scorer.score("\\boxed{\\sqrt{9}}", INT, "strict").correct is True


def test_rule_path_throughput(scorer):
    reasoning = "The segment AB is perpendicular to BC, so the triangle is right-angled at B. " * 12
    pairs = [(reasoning + end, row) for end in ("Answer: 3", "\\boxed{D}", "(D)", "none") for row in (INT, MC)] * 250
    start = time.perf_counter()
    for response, row in pairs:
        scorer.score(response, row, "strict")
    assert len(pairs) / (time.perf_counter() - start) > 2000  # ~20k/s measured; loose bound for slow CI machines
