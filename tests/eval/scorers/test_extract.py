"""Shared strict-mode extraction helpers."""

import pytest

from mmreason.eval.scorers.extract import choice_letter, final_answer_span, last_boxed, parse_number


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("To answer this question, note x. Answer: 5", "5"),  # "To answer this" is not a marker
        ("The answer is 1,234 apples.", "1,234 apples"),
        ("I answered 3.", None),
        ("so the correct option is D", "D"),
        ("Final Answer: (B)", "(B)"),
        ("Answer\uff1a 5", "5"),
        ("The answer 7", None),
        ("x = \\boxed{\\frac{1}{2}} and then Answer: 3", "\\frac{1}{2}"),  # a box wins
        ("<answer> 42 </answer>", "42"),
    ],
)
def test_final_answer_span(text, span):
    assert final_answer_span(text) == span


def test_last_boxed_matches_braces():
    assert last_boxed("\\boxed{a} then \\boxed{\\frac{x^{2}}{2}}") == "\\frac{x^{2}}{2}"
    assert last_boxed("\\boxed{unclosed") is None and last_boxed("no box") is None


@pytest.mark.parametrize(
    ("text", "value"),
    [("1,234.5 m", 1234.5), ("45%", 45.0), ("\\frac{3}{4}", 0.75), ("-3/4", -0.75), ("$12^\\circ$", 12.0),
     ("x = 3 and y = 4", None), ("2.5e3", 2500.0), (None, None)],
)  # fmt: skip
def test_parse_number(text, value):
    assert parse_number(text) == value


@pytest.mark.parametrize(
    ("text", "letter"),
    [("B", "B"), ("(B)", "B"), ("B.", "B"), ("Option C", "C"), ("**D**", "D"), ("The answer is (C)", "C"),
     ("A and B", None), ("Bat", None), ("A cat sits", None), ("blue", "B"), ("E", None)],
)  # fmt: skip
def test_choice_letter(text, letter):
    assert choice_letter(text, 4, ["red", "blue", "green", "black"]) == letter
