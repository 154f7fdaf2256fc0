"""The PUMA renderer on odd input: unicode of every kind, huge and malformed math. Each input renders (a bad formula
drawn as its source, named in `fallbacks`) or is refused with a `RenderError` reason — never a crash or a hang."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmreason.synth import StageFailure
from mmreason.synth.pipelines.puma_pairs import PumaPairsStage, split_question
from mmreason.synth.render import RenderError, RenderStyle, render_text

STYLE = RenderStyle(width=320, height=320, font_size=14, min_font_size=10, max_chars=600)
MATH_BITS = ["$", "\\frac{", "}", "{", "^", "_", "\\sqrt", "[", "]", "\\alpha", "\\undefined", "\\left(", "\\right)",
             "x", " ", "2", "\\", "\\$", "\n", "\\mathrm{", "\\circ", "?", ". "]  # fmt: skip
ODD = ["\ud800", "\x00", "\x07", "\u202e", "e\u0301", "😀", "\u200d", "ﷺ", "\U0010ffff", "\t", "\r\n", "中文", "∑∫√"]


def ink_at_right_edge(image) -> bool:
    return bool((np.asarray(image.convert("L"))[:, -STYLE.margin // 2 :] < 250).any())


def check(text: str) -> None:
    started = time.perf_counter()
    try:
        rendered = render_text(text, STYLE)
    except RenderError as error:
        assert str(error)
    else:
        assert rendered.image.width == STYLE.width and rendered.image.height > 0
        assert rendered.image.mode == "RGB"
        assert not ink_at_right_edge(rendered.image)  # nothing drawn past the margin
    assert time.perf_counter() - started < 5


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(MATH_BITS), st.sampled_from(ODD), st.text(max_size=6)), max_size=40))
def test_fuzzed_text_renders_or_is_refused(bits: list[str]) -> None:
    check("".join(bits))


@pytest.mark.parametrize(
    ("text", "fallback"),
    [
        ("$" + "{" * 500 + "$", True),  # nesting far too deep
        ("$" + "\\frac{1}{" * 20 + "2" + "}" * 20 + "$", None),  # deep but balanced: rendered or drawn as source
        ("$" + "x^" * 200 + "x$", True),  # double superscripts
        ("$\\sqrt[$ and $\\left( x$", True),
        ("$\\undefinedcommand{x}$", True),
        ("$" + "a+" * 250 + "a$", True),  # longer than max_math_chars
        ("w" * 550, False),  # one word wider than the line: cut
        ("$" + "\\frac{aa}{bb}" * 30 + "$", True),  # a formula wider than the line even at the smallest size
        ("price: $5, $6 and \\$7; $ alone", False),  # no formulas here: dollars drawn as text
    ],
    ids=["deep-braces", "deep-fractions", "double-superscripts", "unclosed", "unknown-command", "huge-formula",
         "huge-word", "wide-formula", "dollars"],
)  # fmt: skip
def test_malformed_and_huge_math(text: str, fallback: bool | None) -> None:
    started = time.perf_counter()
    rendered = render_text(text, STYLE)
    assert time.perf_counter() - started < 5
    if fallback is not None:
        assert bool(rendered.fallbacks) is fallback, rendered.fallbacks
    if fallback:
        assert "formula drawn as source" in rendered.fallbacks[0]
    assert not ink_at_right_edge(rendered.image)


def test_a_wide_formula_shrinks_the_block_before_falling_back() -> None:
    formula = "$" + "\\frac{aaaa}{bbbb}+" * 7 + "$"  # too wide at size 14, fits at a smaller one
    rendered = render_text(formula, STYLE)
    assert rendered.fallbacks == [] and 10 <= rendered.font_size < 14
    assert not ink_at_right_edge(rendered.image)


def test_too_much_text_is_a_reason() -> None:
    from mmreason.synth.render import compose

    with pytest.raises(RenderError, match="max_chars=600"):
        render_text("x" * 601, STYLE)
    small = RenderStyle(width=320, height=120, font_size=14, min_font_size=10)
    for text in ("word " * 100, "\n".join("x" * 20)):
        with pytest.raises(RenderError, match=r"does not fit: .* at font size 10"):
            compose(text, None, small)


def test_unprintable_characters_are_replaced_and_named() -> None:
    rendered = render_text("a\ud800b\x00c", STYLE)
    assert rendered.fallbacks == ["replaced unprintable characters"]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(MATH_BITS), st.sampled_from(ODD), st.text(max_size=8)), max_size=30))
def test_stage_never_raises_and_split_keeps_every_character(bits: list[str]) -> None:
    text = "".join(bits)
    parts = split_question(text)
    joined = "".join((parts.description + parts.conditions + parts.question).split())
    assert joined == "".join(text.split())
    row = {"id": "f", "messages": [{"role": "user", "content": text}, {"role": "assistant", "content": "42"}]}
    started = time.perf_counter()
    (result,) = PumaPairsStage(style=STYLE).process_batch([row])
    assert time.perf_counter() - started < 8
    assert isinstance(result, list | StageFailure)
    if isinstance(result, StageFailure):
        assert result.reason and not result.retryable
