"""The refinement replies: validity (the seed's `QUESTION_VALID:` format and what made it crash), consistency,
alignment (the seed's decisions), the `Answer:` line; fuzzed replies give a verdict or one ParseError."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmreason.synth.pipelines.common import ParseError
from mmreason.synth.web.verdicts import final_answer, parse_alignment, parse_consistency, parse_validity

SEED_EXAMPLE = """QUESTION_VALID: yes
ANALYSIS: The question is clear and requires technical explanation
QUESTION_IMAGES: 0,1
QUESTION_IMAGES_REASON: Image 0 shows the problem setup, Image 1 provides additional context
SOLUTION_IMAGES: 0
SOLUTION_IMAGES_REASON: Image 0 clearly illustrates the solution steps"""


def test_the_seeds_examples():
    verdict = parse_validity(SEED_EXAMPLE, 2, 1)
    assert (verdict.valid, verdict.question_images, verdict.solution_images) == (True, [0, 1], [0])
    assert verdict.subject == "other"  # the seed's format has no SUBJECT line
    invalid = parse_validity("QUESTION_VALID: no\nANALYSIS: vague\nQUESTION_IMAGES: \nSOLUTION_IMAGES: ", 3, 0)
    assert (invalid.valid, invalid.question_images, invalid.analysis) == (False, [], "vague")


def test_what_the_seed_misread():
    # the seed: "**yes**" != "yes" (invalid), int("1 (both)") raised, index 5 of 2 images kept as out of range
    verdict = parse_validity("**QUESTION_VALID:** **Yes**\nQUESTION_IMAGES: 0, 1 (both), 5\nSUBJECT: Chemistry", 2, 0)
    assert (verdict.valid, verdict.question_images, verdict.subject) == (True, [0, 1], "chemistry")
    assert parse_validity("QUESTION_VALID: yes", 3, 2).question_images == [0, 1, 2]  # no line: all valid


def test_unreadable_validity_is_a_parse_error():
    for reply in ["", "The question looks fine.", "QUESTION_VALID: maybe"]:
        with pytest.raises(ParseError):
            parse_validity(reply, 1, 0)


def test_consistency_and_alignment():
    assert parse_consistency("CONSISTENT: yes", 4).agreeing == [0, 1, 2, 3]
    split = parse_consistency("CONSISTENT: No\nAGREEING: 2, 4, 9", 4)
    assert (split.consistent, split.agreeing) == (False, [1, 3])
    assert parse_alignment("Yes\nBoth are 4.").aligned is True
    assert parse_alignment("No. The web answer is 2x.").explanation == "The web answer is 2x."
    with pytest.raises(ParseError):
        parse_alignment("Possibly aligned")
    assert final_answer("steps\nAnswer: 3/4\n") == "3/4" and final_answer("**Final answer:** 12 m") == "12 m"
    assert final_answer("no conclusion") is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300), st.integers(0, 5), st.integers(0, 5))
def test_fuzzed_replies_give_a_verdict_or_a_parse_error(reply, questions, solutions):
    for parse in (lambda: parse_validity(reply, questions, solutions), lambda: parse_consistency(reply, 4),
                  lambda: parse_alignment(reply)):  # fmt: skip
        try:
            verdict = parse()
        except ParseError:
            continue
        for name in ("question_images", "solution_images"):
            assert all(0 <= i < (questions if name[0] == "q" else solutions) for i in getattr(verdict, name, []))
