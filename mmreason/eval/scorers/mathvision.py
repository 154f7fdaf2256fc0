"""MATH-Vision (`MathLLMs/MathVision`): official MATH-V rules vs a strict rule-based mode.

Official (`mathllm/MATH-V` `evaluation/utils.py` / `evaluate.py`, ported by lmms-eval's
`tasks/mathvision/utils.py::mathvision_process_results`):
1. a response ending in " C." / " (C)." or starting with "C\\n" / "(C)\\n" / "(C) C\\n" answers C;
2. a number after the last "is " is taken;
3. with no box, the text after the last "the (final|correct) answer is" / "the answer should be" (first line,
   before ". ") is taken; with several boxes only the last counts;
4. `find_math_answer`: last `\\boxed{...}`, the part after the last "=" / "\\approx", spaces, `\\text`, units,
   degrees stripped, then MATH's `_strip_string` (`\\dfrac`→`\\frac`, "0.5"→`\\frac{1}{2}`, "a/b"→`\\frac{a}{b}`...);
5. `is_equal(gold, pred)`: lower-cased equality, then tuples element-wise, then both evaluated and rounded to 2
   decimals; correct if the prediction equals the gold letter or the gold option's text.
The official code evaluates with `eval(latex2sympy(...))`; here a whitelisted LaTeX-to-arithmetic translation is
evaluated by sympy instead (no `eval` of model text). Expressions latex2sympy would understand and ours does not
(matrices, symbols) compare as strings only.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Any, ClassVar

from .base import Scorer, Verdict
from .extract import LETTERS, choice_letter, clean_latex, final_answer_span, numbers_equal, parse_number

_FLAGS = ("the final answer is", "the answer is", "the correct answer is", "the answer should be")
_UNITS = re.compile(r"(?:\^\{?\\circ\}?|°|\\%|%|m\^\{?[23]\}?|cm\^\{?[23]\}?|\b(?:km|cm|mm|m|units?)\b)")
_SAFE = re.compile(r"^[0-9+\-*/().,\s]*$")
_PLAIN_NUMBER = re.compile(r"\s*-?(?:\d+\.?\d*|\.\d+)\s*")


def _strip_string(text: str) -> str:
    """MATH's answer normalisation, as MATH-V applies it."""
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


def find_math_answer(text: str) -> str:
    """MATH-V's `find_math_answer`: the last box (or the text), after the last "=", units and spaces removed."""
    text = text.lower()
    boxes = re.findall(r"oxed\{(.*)\}", text, flags=re.DOTALL)
    if boxes:
        text = boxes[-1]
        depth, cut = 0, len(text)
        for index, char in enumerate(text):
            depth += {"{": 1, "}": -1}.get(char, 0)
            if depth < 0:
                cut = index
                break
        text = text[:cut]
    text = re.split(r"=|\\approx", text)[-1]
    text = text.replace("\\,", "").replace("\\;", "")
    text = re.sub(r"\\(?:text|mbox)\{([^{}]*)\}", r"\1", text)
    text = _UNITS.sub("", text).replace("∞", "\\infty").replace("bmatrix", "pmatrix").strip()
    return _strip_string(text)


def official_extract(response: str) -> str:
    """MATH-V's per-response answer extraction (steps 1-5 above)."""
    for letter in "ABCDE":
        if response.endswith((f" {letter}.", f" ({letter}).")) or response.startswith(
            (f"{letter}\n", f"({letter})\n", f"({letter}) {letter}\n")
        ):
            return letter
    tail = response.split("is ")[-1].rstrip(".")
    if parse_number(tail) is not None and re.fullmatch(r"\s*-?[\d.]+\s*", tail):
        return tail.strip()
    if "oxed{" not in response:
        for flag in (*_FLAGS, *(flag.capitalize() for flag in _FLAGS)):
            if flag in response:
                response = response.split(flag)[-1].split("\n")[0].split(". ")[0]
                break
    elif response.count("oxed{") > 1:
        response = "\\boxed{" + response.split("oxed{")[-1]
    answer = find_math_answer(response)
    answer = re.sub(r"^\(([a-z])\)$", r"\1", answer)
    answer = re.sub(r"^\{([a-z])\}$", r"\1", answer)
    return answer.rstrip(".").lstrip(":").strip()


@lru_cache(maxsize=1 << 16)
def latex_value(text: str) -> float | None:
    """Numeric value of simple LaTeX arithmetic (`\\frac`, `\\sqrt`, `\\pi`, `^`, `\\cdot`), else `None`."""
    if _PLAIN_NUMBER.fullmatch(text):
        return float(text)
    text = text.replace("\\pi", "(pi)").replace("π", "(pi)").replace("\\cdot", "*").replace("\\times", "*")
    for _ in range(4):
        text = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", r"((\1)/(\2))", text)
        text = re.sub(r"\\sqrt\{([^{}]*)\}", r"sqrt(\1)", text)
    text = text.replace("^", "**").replace("{", "(").replace("}", ")")
    if len(text) > 80 or not _SAFE.match(text.replace("sqrt", "").replace("pi", "")):
        return None
    try:
        import sympy

        value = float(sympy.sympify(text, rational=False).evalf())
    except (TypeError, ValueError, SyntaxError, ZeroDivisionError, AttributeError, sympy.SympifyError):
        return None
    return value if math.isfinite(value) else None


def official_equal(gold: str, pred: str) -> bool:
    """MATH-V's `is_equal`: lower-cased equality, tuples element-wise, then values rounded to 2 decimals."""
    gold, pred = str(gold).lower().strip(), str(pred).lower().strip()
    if not gold or not pred:
        return False
    if gold == pred:
        return True
    if gold.startswith("(") and pred.startswith("(") and "," in gold:
        golds, preds = gold.strip("()").split(","), pred.strip("()").split(",")
        return len(golds) == len(preds) and all(official_equal(g, p) for g, p in zip(golds, preds))
    a, b = latex_value(gold), latex_value(pred)
    return a is not None and b is not None and round(a, 2) == round(b, 2)


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
            pred = official_extract(response)
            correct = official_equal(gold, pred) or (gold_text is not None and official_equal(gold_text, pred))
            return Verdict(correct, pred or None, [] if pred else ["no_answer"])
        span = final_answer_span(response)
        if span is None and len(response.strip()) <= 30:
            span = response.strip()
        if span is None:
            return Verdict(False, None, ["no_answer"])
        if options:
            letter = choice_letter(span, len(options), options)
            return Verdict(letter == gold, letter, [] if letter else ["no_answer"])
        return Verdict(strict_equal(gold, span), clean_latex(span))


def strict_equal(gold: str, pred: str) -> bool:
    """Value equality (tolerance 1e-6) for numbers and simple LaTeX, tuples element-wise, else normalised text."""
    pred = re.split(r"=|\\approx", pred)[-1]
    g, p = _strip_string(clean_latex(_UNITS.sub("", gold))), _strip_string(clean_latex(_UNITS.sub("", pred)))
    if g.lower() == p.lower():
        return True
    if g.startswith("(") and "," in g:
        golds, preds = g.strip("()").split(","), p.strip("()").split(",")
        return len(golds) == len(preds) and all(strict_equal(a, b) for a, b in zip(golds, preds))
    a, b = latex_value(g), latex_value(p)
    return numbers_equal(parse_number(g) if a is None else a, parse_number(p) if b is None else b)


__all__ = ["MathVisionScorer", "find_math_answer", "latex_value", "official_equal", "official_extract"]
