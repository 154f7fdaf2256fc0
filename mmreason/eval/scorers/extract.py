"""Shared answer extraction for the `strict` modes: final-answer spans, choice letters, numbers.

Only what several benchmarks need lives here; each benchmark's official quirks stay in its own module. Every helper
runs in time linear in its input (no regex here backtracks quadratically) and never raises on any text.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

from .base import MAX_SPAN_CHARS

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# "answer"-style markers must be followed by "is"/"should be"/"would be" or a colon, so "To answer this, ..." and
# "answered" are not final answers
_ANSWER_MARKERS = re.compile(
    r"\b(?:final answer|the answer|correct answer|correct option|best option|answer)\b"
    r"\s*(?:(?:is|should be|would be)\b\s*[:\uff1a]?|[:\uff1a])\s*",
    re.IGNORECASE,
)
_THOUSANDS = re.compile(r"(?<![\d.])(\d{1,3}(?:,\d{3})+)(?![\d,])")
_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_LATEX_FRAC = re.compile(r"\\[dt]?frac\s*\{\s*([^{}]+?)\s*\}\s*\{\s*([^{}]+?)\s*\}")
_TEXT_WRAPPERS = re.compile(r"\\(?:text|mathrm|textbf|mathbf|operatorname)\s*\{([^{}]*)\}")
_ANSWER_OPEN = re.compile("<answer>", re.IGNORECASE)
_ANSWER_CLOSE = re.compile("</answer>", re.IGNORECASE)
_FRACTION = re.compile(r"(?<![\d.])([-+]?\d+)\s*/\s*(\d+)(?![\d.])")
THINK_END = "</think>"


def last_boxed(text: str) -> str | None:
    """Content of the last `\\boxed{...}` (or `\\fbox{...}`), braces matched; `None` if there is none."""
    start = max(text.rfind("\\boxed"), text.rfind("\\fbox"))
    if start < 0:
        return None
    brace = text.find("{", start)
    if brace < 0:
        return None
    depth = 0
    for index in range(brace, len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            return text[brace + 1 : index].strip()
    return None


def after_think(text: str) -> str:
    """The text after the last `</think>` (a reasoning model's answer part); the whole text when there is none."""
    end = text.rfind(THINK_END)
    return text if end < 0 else text[end + len(THINK_END) :]


def answer_tags(text: str) -> list[str]:
    """The contents of the `<answer>...</answer>` tags, as `re.findall(r"<answer>(.*?)</answer>", text, DOTALL |
    IGNORECASE)` finds them, in linear time (that regex rescans the rest of the text from every unclosed tag)."""
    found: list[str] = []
    position = 0
    while (opening := _ANSWER_OPEN.search(text, position)) is not None:
        closing = _ANSWER_CLOSE.search(text, opening.end())
        if closing is None:  # no later tag can close either
            break
        found.append(text[opening.end() : closing.start()])
        position = closing.end()
    return found


def final_answer_span(text: str) -> str | None:
    """The model's final answer, read after the last `</think>`: the last `\\boxed{}`, else the
    `<answer>...</answer>` tag, else the text after the last "Answer:"-style marker (first line of it); `None` when
    the response states no answer."""
    text = after_think(text)
    boxed = last_boxed(text)
    if boxed is not None:
        return boxed
    tagged = answer_tags(text)
    if tagged:
        return tagged[-1].strip()
    matches = list(_ANSWER_MARKERS.finditer(text))
    if matches:
        tail = text[matches[-1].end() :].strip()
        line = tail.splitlines()[0].strip() if tail else ""
        return line.rstrip(".").strip() or None
    return None


def clean_latex(text: str) -> str:
    """Drop `$`, `\\left`/`\\right`, `\\text{}` wrappers, `\\!`/`\\,`/`~` spacing, degree signs and trailing dots;
    the minus sign U+2212 becomes `-`."""
    text = _TEXT_WRAPPERS.sub(r"\1", text)
    for token in ("\\left", "\\right", "\\!", "\\,", "\\;", "\\:", "$", "^\\circ", "^{\\circ}", "°"):
        text = text.replace(token, "")
    text = text.replace("\\%", "%").replace("~", " ").replace("\u2212", "-")
    return text.strip().rstrip(".").strip()


def parse_number(text: str | None) -> float | None:
    """A number written as `1,234.5`, `-3`, `45%` (→ 45), `3/4`, `\\frac{3}{4}`, `2.5e3`, with units or words
    around it when exactly one number is present; `None` otherwise (also for text longer than `MAX_SPAN_CHARS`,
    which is no final answer, and for a value no float holds)."""
    if text is None or len(text) > MAX_SPAN_CHARS:
        return None
    text = clean_latex(text)
    text = _THOUSANDS.sub(lambda m: m.group(1).replace(",", ""), text)
    fraction = _LATEX_FRAC.search(text) or _FRACTION.search(text)
    if fraction:
        try:
            value = float(Fraction(int(fraction.group(1)), int(fraction.group(2))))
        except (ValueError, ZeroDivisionError, OverflowError):
            return None
        return value if math.isfinite(value) else None
    numbers = _NUMBER.findall(text)
    if len(numbers) != 1:
        return None
    try:
        value = float(numbers[0])
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def numbers_equal(a: float | None, b: float | None, rel_tol: float = 1e-6, abs_tol: float = 1e-9) -> bool:
    """Numeric equality with a relative tolerance (never true when either side is missing)."""
    return a is not None and b is not None and math.isclose(a, b, rel_tol=rel_tol, abs_tol=abs_tol)


def choice_letter(text: str | None, num_choices: int, options: list[str] | None = None) -> str | None:
    """The single option letter a (final-answer) text names: `B`, `(B)`, `B.`, `B)`, `Option B`, `**B**`, or
    the exact text of one option. Several different letters, or none, give `None` (never a guess)."""
    if not text:
        return None
    valid = LETTERS[:num_choices]
    stripped = text.strip().strip("*").strip()
    match = re.fullmatch(r"(?:option|choice)?\s*\(?([A-Z])\)?[.:)]?(?:\s.*)?", stripped, flags=re.IGNORECASE)
    if (
        match
        and match.group(1).upper() in valid
        and (len(stripped) <= 3 or stripped[:1] in "(*" or _starts_letter(stripped))
    ):
        return match.group(1).upper()
    found = {m.upper() for m in re.findall(r"(?<![A-Za-z])\(?([A-Z])\)(?![A-Za-z])", text) if m.upper() in valid}
    if len(found) == 1:
        return found.pop()
    if options:
        normalized = _norm_text(text)
        hits = [LETTERS[i] for i, option in enumerate(options) if _norm_text(str(option)) == normalized]
        if len(hits) == 1:
            return hits[0]
    return None


def _starts_letter(text: str) -> bool:
    return bool(re.match(r"(?:option|choice)?\s*[A-Z](?:[.:)](?:\s|$)|\s*$)", text, flags=re.IGNORECASE))


def _norm_text(text: str) -> str:
    return re.sub(r"\s+", " ", clean_latex(text)).strip().lower()


__all__ = [
    "LETTERS",
    "THINK_END",
    "after_think",
    "answer_tags",
    "choice_letter",
    "clean_latex",
    "final_answer_span",
    "last_boxed",
    "numbers_equal",
    "parse_number",
]
