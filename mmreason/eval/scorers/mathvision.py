"""MATH-Vision (`MathLLMs/MathVision`): the official MATH-V verdict vs a strict rule-based mode.

`official` is MATH-V's own `evaluation/evaluate.py` + `utils.py` (see `mathvision_official`), checked against the
official code on an adversarial set (tests/eval/scorers/fixtures/mathvision_official.json). Its comparison calls
latex2sympy; install it with ``pip install "mmreason[latex]"`` (`latex2sympy2==1.9.1`, which pins
`antlr4-python3-runtime==4.7.2`). Without it, a comparison that needs latex2sympy is flagged `needs_latex2sympy`
(scored as a miss) instead of guessed. Anything too large to evaluate in bounded time (``2^{2^{40}}``) is a miss
flagged `over_bound`; no response can raise or stall the scorer.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Any, ClassVar

from .base import Scorer, Verdict
from .extract import LETTERS, choice_letter, clean_latex, final_answer_span, numbers_equal, parse_number
from .mathvision_latex import OverBound, arith_eval
from .mathvision_official import find_math_answer, official_equal, official_extract

_UNITS = re.compile(r"(?:\^\{?\\circ\}?|°|\\%|%|m\^\{?[23]\}?|cm\^\{?[23]\}?|\b(?:km|cm|mm|m|units?)\b)")
_SAFE = re.compile(r"[0-9+\-*/().,\s]*")
_PLAIN_NUMBER = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_IMPLICIT = re.compile(r"(?<=[0-9)])(?=[(sp])")
_MINUS = str.maketrans({"\u2212": "-", "\ufe63": "-", "\uff0d": "-", "~": " "})
MAX_STRICT_CHARS = 200


def _strip_string(text: str) -> str:
    """MATH's answer normalisation (strict mode's variant: fractions always fixed)."""
    text = text.replace("\n", "").replace("\\!", "").replace("\\\\", "\\")
    text = text.replace("tfrac", "frac").replace("dfrac", "frac").replace("\\left", "").replace("\\right", "")
    text = text.replace("^{\\circ}", "").replace("^\\circ", "").replace("\\$", "").replace("\\%", "").replace("%", "")
    text = text.replace(" .", " 0.").replace("{.", "{0.")
    if text.startswith("."):
        text = "0" + text
    parts = text.split("=")
    if len(parts) == 2 and len(parts[0]) <= 2:
        text = parts[1]
    text = re.sub(r"\\sqrt(\w)", r"\\sqrt{\1}", text).replace(" ", "")
    text = re.sub(r"\\frac(\d)(\d)", r"\\frac{\1}{\2}", text)
    if text == "0.5":
        text = "\\frac{1}{2}"
    match = re.fullmatch(r"(-?\d+)/(\d+)", text)
    return f"\\frac{{{match.group(1)}}}{{{match.group(2)}}}" if match else text


@lru_cache(maxsize=1 << 16)
def latex_value(text: str) -> float | None:
    """Numeric value of simple LaTeX arithmetic (`\\frac`, `\\sqrt`, `\\pi`, `^`, `\\cdot`, implicit products such as
    `2\\sqrt{3}`), else `None`; evaluated by the bounded `arith_eval`, never `eval` (`OverBound` if too large)."""
    text = text.strip()
    if len(text) > MAX_STRICT_CHARS:
        return None
    if _PLAIN_NUMBER.fullmatch(text):
        return float(text)
    text = text.replace("\\pi", "(pi)").replace("π", "(pi)").replace("\\cdot", "*").replace("\\times", "*")
    for _ in range(4):
        text = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", r"((\1)/(\2))", text)
        text = re.sub(r"\\sqrt\{([^{}]*)\}", r"sqrt(\1)", text)
    text = _IMPLICIT.sub("*", text.replace("^", "**").replace("{", "(").replace("}", ")"))
    if not _SAFE.fullmatch(text.replace("sqrt", "").replace("pi", "")):
        return None
    try:
        value = float(arith_eval(text))
    except OverBound:
        raise
    except Exception:
        return None
    return value if math.isfinite(value) else None


class MathVisionScorer(Scorer):
    """MATH-Vision scorer (`official` MATH-V rules, `strict` final-answer rules)."""

    name = "mathvision"
    breakdown: ClassVar[tuple[str, ...]] = ("subject", "level")
    STRICT_CHANGES: ClassVar[tuple[str, ...]] = (
        "The answer is read only from the final answer (last `\\boxed{}`, 'Answer:'/'The answer is', `<answer>` "
        "tag) or a response that is itself the answer; no 'starts with \"C\\n\"' or 'number after the last \"is \"' "
        "guesses.",
        "Multiple choice: one option letter or the exact option text; several letters or none are a miss "
        "(`no_answer`), never the first letter found.",
        "Numbers are compared by value with a relative tolerance of 1e-6 instead of after rounding both to 2 decimals "
        "(so 3.14 is not pi, and 0.333 is not 1/3).",
        "The minus sign U+2212 reads as '-', `~` as a space, and a short answer after `</think>` is the answer.",
        "Units, degrees, percent, thousands separators and `\\frac`/`\\dfrac` are normalised before comparing; model "
        "text is never passed to `eval`.",
    )

    def prompt(self, doc: dict[str, Any]) -> str:
        options = doc.get("options") or []
        text = 'Please solve the problem step by step and put your answer in one "\\boxed{}".\n' + doc["question"]
        if options:
            text += "\nChoices: " + " ".join(f"({LETTERS[i]}) {o}" for i, o in enumerate(options))
        return text

    def score(self, response: str, doc: dict[str, Any], mode: str = "strict") -> Verdict:
        self.check_mode(mode)
        gold, options = str(doc["answer"]).strip(), list(doc.get("options") or [])
        gold_text = options[LETTERS.index(gold)] if options and gold in LETTERS[: len(options)] else None
        if mode == "official":
            return _official_verdict(response, gold, gold_text or "")
        response, gold = response.translate(_MINUS), gold.translate(_MINUS)
        if "</think>" in response:
            response = response.rsplit("</think>", 1)[1]
        span = final_answer_span(response)
        if span is None and len(response.strip()) <= 30:
            span = response.strip()
        if span is None:
            return Verdict(False, None, ["no_answer"])
        if options:
            letter = choice_letter(span, len(options), options)
            return Verdict(letter == gold, letter, [] if letter else ["no_answer"])
        if len(span) > MAX_STRICT_CHARS:
            return Verdict(False, None, ["over_bound"])
        if re.match(r"not\b", span, flags=re.IGNORECASE):  # "The answer is not 16."
            return Verdict(False, None, ["no_answer"])
        try:
            return Verdict(strict_equal(gold, span), clean_latex(span))
        except OverBound:
            return Verdict(False, clean_latex(span), ["over_bound"])


def _official_verdict(response: str, gold: str, gold_text: str) -> Verdict:
    """`is_equal(gold letter or answer, pred) or is_equal(gold option text, pred)`, as MATH-V's `evaluate()`."""
    pred = official_extract(response)
    try:
        first = official_equal(gold, pred)
        second = False if first else official_equal(gold_text, pred)
    except (OverBound, RecursionError, MemoryError):
        return Verdict(False, pred or None, ["over_bound"])
    if first or second:
        return Verdict(True, pred)
    flags = [] if pred else ["no_answer"]
    return Verdict(False, pred or None, flags + (["needs_latex2sympy"] if None in (first, second) else []))


def strict_equal(gold: str, pred: str) -> bool:
    """Value equality (tolerance 1e-6) for numbers and simple LaTeX, tuples element-wise, else normalised text."""
    pred = re.split(r"=|\\approx", pred)[-1].replace("{,}", ",")
    gold = gold.replace("{,}", ",")
    g, p = _strip_string(clean_latex(_UNITS.sub("", gold))), _strip_string(clean_latex(_UNITS.sub("", pred)))
    if g.lower() == p.lower():
        return True
    if g.startswith("(") and "," in g and p.startswith("("):
        golds, preds = g.strip("()").split(","), p.strip("()").split(",")
        return len(golds) == len(preds) and all(strict_equal(a, b) for a, b in zip(golds, preds))
    a, b = latex_value(g), latex_value(p)
    return numbers_equal(parse_number(g) if a is None else a, parse_number(p) if b is None else b)


__all__ = ["MathVisionScorer", "find_math_answer", "latex_value", "official_equal", "official_extract", "strict_equal"]
