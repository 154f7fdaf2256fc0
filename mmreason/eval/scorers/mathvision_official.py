"""MATH-Vision's official verdict (`mathllm/MATH-V` @ a1f5cc3, `evaluation/evaluate.py::evaluate` and
`evaluation/utils.py`), step for step, quirks kept, in linear time.

Extraction (`official_extract`), in the official order: strip; a response ending in " C." / " (C)." or starting
with "C\\n" / "(C)\\n" / "(C) C\\n" becomes "C"; if `float()` accepts the text after the last "is " (trailing dots
removed) that text is taken; without "oxed{" every answer phrase ("the final answer is", "the answer is", "the
correct answer is", "the answer should be", then each with "The") in turn keeps the text after its last occurrence
(first line, before the first ". "); with several boxes only the last is kept; then `find_math_answer` (lower-case,
drop "{}", greedy last box, cut at an unmatched "}", after the last "=" and "\\approx", delete ALL spaces, then only
the literals `\\text`, `\\mbox`, `^{\\circ}`, `^\\circ`, `{m}^3`, `m^3`, `{units}`, `units`, `{km}`, `km`, then MATH's
`_strip_string`, whose `_fix_sqrt`/`_fix_fracs` run only when "sqrt" occurs); finally "(a)"→"a", "{a}"→"a" for a..e
anywhere, trailing ".", leading ":".

Comparison (`official_equal`, MATH-V's `is_equal`): lower-case; empty → no; equal after strip → yes; tuples/lists
element-wise via latex2sympy rounded to 2 decimals; else ``round(value(gt), 2) == round(value(pred), 2)`` where
value is latex2sympy's result evaluated (any error → no). The values need the `latex2sympy2` extra; without it
only plain numbers are evaluated and every other comparison that needs latex2sympy is `UNDECIDED`.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

from .mathvision_latex import OverBound, arith_eval, latex2sympy_available, latex2sympy_text

UNDECIDED = None
_PLAIN = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_FLAGS = ("the final answer is", "the answer is", "the correct answer is", "the answer should be")


class Undecided(Exception):
    """The comparison needs latex2sympy, which is not installed."""


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def official_extract(response: str) -> str:
    """The answer MATH-V's `evaluate()` reads from one response (`model_answer`)."""
    answer = response.strip()
    for c in "ABCDE":
        if answer.endswith((f" {c}.", f" ({c}).")) or answer.startswith((f"{c}\n", f"({c})\n", f"({c}) {c}\n")):
            answer = c
    tail = answer.split("is ")[-1].rstrip(".")
    if _is_number(tail):
        answer = tail
    if "oxed{" not in answer:
        for flag in _FLAGS:
            for variant in (flag, flag.replace("the", "The")):
                had_flag = variant in answer
                answer = answer.split(variant)[-1].strip()
                if had_flag:
                    answer = answer.split("\n")[0].split(". ")[0]
    elif answer.count("oxed{") > 1:
        answer = "\\boxed{" + answer.split("oxed{")[-1]
    answer = find_math_answer(answer)
    for c in "abcde":
        answer = answer.replace(f"({c})", c)
    for c in "abcde":
        answer = answer.replace(f"{{{c}}}", c)
    return answer.rstrip(".").lstrip(":").strip()


def find_math_answer(text: str) -> str:
    """MATH-V's `find_math_answer` (see the module docstring)."""
    text = text.lower().replace("{}", "")
    start, end = text.find("oxed{"), text.rfind("}")
    ans = text[start + 5 : end] if start >= 0 and end >= start + 5 else text  # `re.findall("oxed{(.*)}", re.S)[-1]`
    close, open_ = ans.find("}"), ans.find("{")
    if close != -1 and (open_ == -1 or close < open_):
        ans = ans.split("}")[0]
    ans = ans.split("=")[-1].split("\\approx")[-1]
    ans = ans.replace(" ", "").replace("\\,", "").replace("∞", "\\infty")
    ans = ans.replace("+\\infty", "\\infty").replace("\\\\", "\\").replace("\n", "")
    for literal in ("\\text", "\\mbox"):
        ans = ans.replace(literal, "")
    ans = ans.replace("bmatrix", "pmatrix").replace("\\left", "").replace("\\right", "")
    for literal in ("^{\\circ}", "^\\circ", "{m}^3", "m^3", "{units}", "units", "{km}", "km"):
        ans = ans.replace(literal, "")
    return strip_string(ans)


def strip_string(string: str) -> str:
    """MATH's `_strip_string` as MATH-V's `utils.py` has it."""
    string = string.replace("\n", "").replace("\\!", "").replace("\\\\", "\\")
    string = string.replace("tfrac", "frac").replace("dfrac", "frac").replace("\\left", "").replace("\\right", "")
    string = string.replace("^{\\circ}", "").replace("^\\circ", "").replace("\\$", "").replace("$", "")
    string = string.split("\\text{ ")[0]
    string = string.replace("\\%", "").replace(" .", " 0.").replace("{.", "{0.")
    if not string:
        return string
    if string[0] == ".":
        string = "0" + string
    if string.count("=") == 1:
        string = string.split("=")[-1]
    if string.count("\\approx") == 1:
        string = string.split("\\approx")[-1]
    if "sqrt" in string:
        string = _fix_sqrt(string)
    string = string.replace(" ", "")
    if "sqrt" in string:
        string = _fix_fracs(string)
    if string == "0.5":
        string = "\\frac{1}{2}"
    return _fix_a_slash_b(string)


def _fix_sqrt(string: str) -> str:
    splits = string.split("\\sqrt")
    parts = [splits[0]]
    for split in splits[1:]:
        parts.append("\\sqrt{" + split[0] + "}" + split[1:] if split and split[0] != "{" else "\\sqrt" + split)
    return "".join(parts)


def _fix_fracs(string: str) -> str:
    substrs = string.split("\\frac")
    parts = [substrs[0]]
    for substr in substrs[1:]:
        parts.append("\\frac")
        if substr and substr[0] == "{":
            parts.append(substr)
            continue
        if len(substr) < 2:
            return string
        a, b, rest = substr[0], substr[1], substr[2:]
        parts.append("{" + a + "}{" + b + "}" + rest if b != "{" else "{" + a + "}" + b + rest)
    return "".join(parts)


def _fix_a_slash_b(string: str) -> str:
    if string.count("/") != 1:
        return string
    a, b = string.split("/")
    try:
        if string != f"{int(a)}/{int(b)}":
            return string
    except ValueError:
        return string
    return "\\frac{" + str(int(a)) + "}{" + str(int(b)) + "}"


def _plain_value(text: str) -> Any:
    """What `eval(str(latex2sympy(text)))` gives for a plain decimal number (latex2sympy reads it as a Rational)."""
    if _PLAIN.fullmatch(text) and sum(ch.isdigit() for ch in text) <= 15:
        value = Fraction(text)
        return value.numerator if value.denominator == 1 else value.numerator / value.denominator
    if text in ("a", "b", "c", "d", "e"):  # latex2sympy: Symbol / E, then `eval` raises NameError
        raise NameError(text)
    raise Undecided(text)


def _value(text: str, use_latex2sympy: bool) -> Any:
    return arith_eval(latex2sympy_text(text)) if use_latex2sympy else _plain_value(text)


def _eval_tuple(s: str, use_latex2sympy: bool) -> str:
    parts = s[1:-1].split(",")
    try:
        if len(parts) > 1 and ((s[0] == "(" and s[-1] == ")") or (s[0] == "[" and s[-1] == "]")):
            values = [
                sub if "infty" in sub or sub in ("a", "-a") else str(round(_value(sub, use_latex2sympy), 2))
                for sub in parts
            ]
            return s[0] + ",".join(values) + s[-1]
    except (Undecided, OverBound):
        raise
    except Exception:
        return s
    return s


def official_equal(gold: str, pred: str, use_latex2sympy: bool | None = None) -> bool | None:
    """MATH-V's `is_equal(pred, gold)`; `None` (UNDECIDED) when it needs latex2sympy and that is not installed.

    Raises `OverBound` for values too large to compute in bounded time."""
    if use_latex2sympy is None:
        use_latex2sympy = latex2sympy_available()
    pred, gold = pred.lower(), gold.lower()
    if not pred.replace(" ", "") or not gold.replace(" ", ""):
        return False
    if gold.strip() == pred.strip():
        return True
    try:
        pred, gold = _eval_tuple(pred, use_latex2sympy), _eval_tuple(gold, use_latex2sympy)
        if gold == pred:
            return True
        return round(_value(gold, use_latex2sympy), 2) == round(_value(pred, use_latex2sympy), 2)
    except Undecided:
        return UNDECIDED
    except OverBound:
        raise
    except Exception:
        return False


__all__ = ["UNDECIDED", "find_math_answer", "official_equal", "official_extract", "strip_string"]
