"""Reading numbers and free-form answers for DynaMath's strict mode: `strict_number` (a finite number stated as
`6.283`, `2π/3`, `\\frac{2\\pi}{3}`, `3√3`, with units and "x = … ≈ …" around it; never `eval`, never raises) and
`strict_text_equal` (numbers and number tuples within `TOLERANCE`, else normalised text)."""

from __future__ import annotations

import math
import re
import string

#: numeric answers within this of the gold are correct (DynaMath's official tolerance)
TOLERANCE = 1e-3

_UNICODE = (("\u2212", "-"), ("\ufe63", "-"), ("\uff0d", "-"), ("\u00a0", " "), ("\u2009", " "), ("\u202f", " "),
            ("\u3000", " "), ("\u200b", ""), ("\ufeff", ""), ("\u2060", ""), ("\u00d7", "*"), ("\u00b7", "*"),
            ("\u22c5", "*"))  # fmt: skip
_LATEX = (("\\left", ""), ("\\right", ""), ("\\,", ""), ("\\!", ""), ("\\;", " "), ("\\ ", " "), ("$", ""),
          ("\\approx", "≈"), ("\\cdot", "*"), ("\\times", "*"), ("\\pi", "π"), ("^\\circ", ""), ("°", ""))  # fmt: skip
_WRAPPER = re.compile(r"\\(?:text|mathrm|textbf|mathbf|operatorname|boxed)\s*\{([^{}]*)\}")
_FRAC = re.compile(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
_SQRT = re.compile(r"\\sqrt\s*\{\s*([0-9.]+)\s*\}")
_NUM = r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_VALUE = re.compile(
    rf"([-+]?)\s*({_NUM})?\s*\*?\s*(π)?\s*\*?\s*(?:√\s*({_NUM}))?\s*(?:/\s*({_NUM})\s*\*?\s*(π)?\s*(?:√\s*({_NUM}))?)?"
)
_SCIENTIFIC = re.compile(r"(\d)\s*\*\s*10\s*\^\s*\{?\s*([-+]?\d+)\s*\}?")
_UNIT_POWER = re.compile(r"(?<=[A-Za-z])\s*(?:\^\s*\{?\s*[23]\s*\}?|[²³])")
_ANY_NUMBER = re.compile(rf"[-+]?{_NUM}")
_EDGE = string.ascii_letters + " \t\n:~≈'\"*`"


def plain(text: str) -> str:
    """Unicode minus signs as "-", exotic spaces as " ", zero-width characters dropped (C-speed replaces)."""
    for char, replacement in _UNICODE:
        if char in text:
            text = text.replace(char, replacement)
    return text


def clean(text: str) -> str:
    """`plain` text with LaTeX wrappers and spacing commands removed, `\\pi`/`pi` as "π", edge `*`, backticks and a
    trailing dot stripped."""
    text = plain(text)
    text = _WRAPPER.sub(r"\1", text)
    for token, replacement in _LATEX:
        text = text.replace(token, replacement)
    text = re.sub(r"(?<![A-Za-z])pi(?![A-Za-z])", "π", text)
    return text.strip().strip("*`").strip().rstrip(".").strip()


def strict_number(text: str) -> float | None:
    """A finite number stated as `6.283`, `-9` (also with U+2212), `2π`, `2π/3`, `\\frac{2\\pi}{3}`, `1/12`,
    `3√3`, with words or units around it and "x = … ≈ …" prefixes; `None` otherwise (never `eval`, never raises)."""
    text = _SQRT.sub(r"√\1", clean(text))
    text = _FRAC.sub(r"\1/\2", text)
    text = _SCIENTIFIC.sub(r"\1e\2", text)
    text = _UNIT_POWER.sub("", text).replace("{", "").replace("}", "")
    text = re.split(r"[=≈]", text)[-1] if ("=" in text or "≈" in text) else text
    text = text.replace(",", "") if re.fullmatch(r"[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?", text.strip()) else text
    core = text.strip(_EDGE).rstrip(".").strip(_EDGE)
    match = _VALUE.fullmatch(core)
    if match and any(match.group(k) for k in (2, 3, 4)):
        return _value(match.groups())
    numbers = _ANY_NUMBER.findall(core)
    if len(numbers) == 1 and "π" not in core and "√" not in core and "/" not in core:
        return _finite(float(numbers[0]))
    return None


def _value(groups: tuple[str | None, ...]) -> float | None:
    sign, coef, pi, root, denom, denom_pi, denom_root = groups
    value = float(coef or 1) * (math.pi if pi else 1.0) * (math.sqrt(float(root)) if root else 1.0)
    if denom is not None:
        divisor = float(denom) * (math.pi if denom_pi else 1.0) * (math.sqrt(float(denom_root)) if denom_root else 1)
        if divisor == 0 or not math.isfinite(divisor):
            return None
        value /= divisor
    return _finite(-value if sign == "-" else value)


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _number_list(text: str) -> list[float] | None:
    """`(3.000, 1.000)`, `[1, 6, 2]`, `1, 6, 2` or one number as a list of floats; `None` otherwise."""
    inner = text.strip().strip("()[]{} ")
    parts = inner.split(",") if inner else []
    values = [strict_number(part) if re.fullmatch(r"\s*[-+]?[\d.]+\s*", part) else None for part in parts]
    return None if not values or None in values else values  # type: ignore[return-value]


def norm_text(text: str) -> str:
    """`clean` text without whitespace or quotes, lower-cased (free-form comparison)."""
    return re.sub(r"\s+", "", clean(text)).strip("\"'").lower()


def strict_text_equal(answer: str, gold: str) -> bool:
    """Free-form equality: numbers and number tuples within the tolerance, else normalised text equality
    (LaTeX wrappers, whitespace, case, trailing dot, Unicode minus)."""
    gold_numbers = _number_list(clean(gold))
    if gold_numbers is not None and len(gold_numbers) == 1:
        value = strict_number(answer)
        return value is not None and abs(value - gold_numbers[0]) <= TOLERANCE
    if gold_numbers is not None:
        numbers = _number_list(clean(answer))
        return (
            numbers is not None
            and len(numbers) == len(gold_numbers)
            and all(abs(a - b) <= TOLERANCE for a, b in zip(numbers, gold_numbers))
        )
    return norm_text(answer) == norm_text(gold)


__all__ = ["TOLERANCE", "clean", "norm_text", "plain", "strict_number", "strict_text_equal"]
