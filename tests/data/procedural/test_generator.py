"""The generator: deterministic per seed, gold answers confirmed by an independent solver, rationales that end in
the answer, easy in one step and hard in several."""

import pytest

from mmreason.data import procedural

from .solver import solve

LEVELS = ("easy", "hard")


def _fingerprint(problems):
    return [(p.id, p.family, p.level, p.question, p.description, p.answer, p.rationale, p.choices,
             p.image.tobytes()) for p in problems]  # fmt: skip


@pytest.mark.parametrize("level", LEVELS)
def test_the_same_seed_gives_the_same_problems(level):
    first = procedural.generate(15, seed=3, level=level)
    assert _fingerprint(first) == _fingerprint(procedural.generate(15, seed=3, level=level))
    # a problem does not depend on how many were asked for
    assert _fingerprint(procedural.generate(5, seed=3, level=level)) == _fingerprint(first[:5])
    other = procedural.generate(15, seed=4, level=level)
    assert [p.description for p in other] != [p.description for p in first]


def test_families_are_taken_in_turn_and_can_be_chosen():
    problems = procedural.generate(10, seed=0, level="easy")
    assert [p.family for p in problems] == [*procedural.FAMILIES, *procedural.FAMILIES]
    assert len(procedural.FAMILIES) >= 4
    assert {p.family for p in procedural.generate(6, 0, "hard", families=["clock", "bars"])} == {"clock", "bars"}
    with pytest.raises(ValueError, match="unknown"):
        procedural.generate(1, 0, "easy", families=["chess"])
    with pytest.raises(ValueError, match="level"):
        procedural.generate(1, 0, "medium")


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gold_answers_agree_with_an_independent_solver(level, seed):
    problems = procedural.generate(100, seed=seed, level=level)
    for p in problems:
        assert solve(p.description, p.question) == p.answer, (p.id, p.description, p.question)
        assert p.rationale.split("\n")[-1] == f"Final answer: {p.answer}", p.id
        assert p.choices is None or p.answer in p.choices
        assert p.image.mode == "RGB" and p.image.size == (procedural.IMAGE_SIZE,) * 2
        assert procedural.IMAGE_SIZE <= 192
    assert len({p.id for p in problems}) == len(problems)


def test_hard_problems_take_more_steps_than_easy_ones():
    for family in procedural.FAMILIES:
        easy = procedural.generate(20, 0, "easy", families=[family])
        hard = procedural.generate(20, 0, "hard", families=[family])
        easy_steps = max(len(p.rationale.split("\n")) for p in easy)
        assert easy_steps == 2, family  # one step, then the final answer
        assert min(len(p.rationale.split("\n")) - 1 for p in hard) >= 2, family
        assert min(len(p.rationale.split("\n")) for p in hard) > min(len(p.rationale.split("\n")) for p in easy)


def test_answer_classes_are_few_per_family():
    """Learnable by a tiny model: a handful of answer classes per family and level."""
    for level in LEVELS:
        for family in procedural.FAMILIES:
            answers = {p.answer for p in procedural.generate(300, 0, level, families=[family])}
            assert 2 <= len(answers) <= 48, (level, family, sorted(answers))
