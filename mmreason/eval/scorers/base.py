"""What every benchmark scorer provides: a verdict per response, two modes, and an aggregate.

A scorer is pure Python (no torch, no network): `score(response, doc, mode)` returns a [`Verdict`] for one model
response against one benchmark row (`doc`, the row as the benchmark's Hub dataset stores it), and `aggregate`
turns verdicts into the benchmark's published metrics.

Modes:
* `official`: reproduce the official evaluation script's verdict exactly, quirks included, so numbers compare
  with published tables. Where the official protocol calls a GPT judge or picks a random letter, the verdict says
  so in `flags` (`"needs_judge"`, `"random_guess"`) instead of guessing silently.
* both modes are bounded: a scorer's time is linear in the response length and it never raises on any response;
  a response past a bound (`MAX_RESPONSE_CHARS`, a final answer over `MAX_SPAN_CHARS`, a number over
  `MAX_DIGITS` digits, an official edit-distance snap over `MAX_EDIT_CHARS`) is a miss flagged `"over_bound"`.
  Decorate `score` with [`bounded`] to get that verdict from a raised [`BoundExceeded`].
* `strict`: fix each documented quirk (no false positives; units, percent, LaTeX, fractions handled). Every
  difference from `official` is listed in the scorer's `STRICT_CHANGES`.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, ClassVar, TypeVar

MODES = ("official", "strict")
#: flag of a response that exceeded one of the bounds below (scored as a miss)
OVER_BOUND = "over_bound"
#: longest response scored at all (about 250k tokens)
MAX_RESPONSE_CHARS = 1_000_000
#: longest final-answer span the strict modes compare
MAX_SPAN_CHARS = 2_000
#: longest run of digits read as a number (a float holds about 308)
MAX_DIGITS = 300
#: most characters an official edit-distance snap reads, summed over the choices (MathVista's Levenshtein)
MAX_EDIT_CHARS = 20_000


@dataclass
class Verdict:
    """One scored response.

    Args:
        correct: the verdict.
        extracted: the answer read from the response, normalised as the mode compares it (`None`: nothing found).
        flags: what the protocol could not decide by rule: `"needs_judge"` (the official protocol would ask a GPT
            judge here), `"random_guess"` (the official parser picked a random letter), `"no_answer"`,
            `"over_bound"` (the response exceeded a scoring bound: a miss, see `MAX_RESPONSE_CHARS` and friends).
    """

    correct: bool
    extracted: str | None = None
    flags: list[str] = field(default_factory=list)


_LONG_DIGITS = re.compile(rf"(?<!\d)\d{{{MAX_DIGITS + 1}}}")


#: the `STRICT_CHANGES` entry every strict mode built on `extract` shares
STRICT_READING = (
    "Only the text after the last `</think>` is read (a reasoning model's answer); LaTeX `~` is a space "
    "(`\\mathrm{~cm}` reads 'cm'), U+2212 is a minus sign, and 'Choice C' / 'Option D.' name a letter."
)


class BoundExceeded(ValueError):
    """Raised inside a scorer when a response exceeds a bound; [`bounded`] turns it into an `"over_bound"` miss."""


_Score = TypeVar("_Score", bound=Callable[..., Verdict])


def bounded(score: _Score) -> _Score:
    """Decorator of `Scorer.score(self, response, doc, mode)`: a non-string response is `""`, a response longer
    than `MAX_RESPONSE_CHARS` or one that raises [`BoundExceeded`] is `Verdict(False, None, ["over_bound"])`."""

    @wraps(score)
    def wrapper(self: Any, response: Any, doc: dict[str, Any], mode: str = "strict") -> Verdict:
        self.check_mode(mode)
        response = response if isinstance(response, str) else ""
        if len(response) > MAX_RESPONSE_CHARS:
            return Verdict(False, None, [OVER_BOUND])
        try:
            return score(self, response, doc, mode)
        except BoundExceeded:
            return Verdict(False, None, [OVER_BOUND])

    return wrapper  # type: ignore[return-value]


def check_span(span: str | None) -> str | None:
    """`span`, or raise [`BoundExceeded`] when it is longer than `MAX_SPAN_CHARS` or holds a run of more than
    `MAX_DIGITS` digits (a number no float holds)."""
    if span is not None and (len(span) > MAX_SPAN_CHARS or _LONG_DIGITS.search(span)):
        raise BoundExceeded(f"final answer of {len(span)} characters")
    return span


class Scorer(ABC):
    """Base class of the benchmark scorers."""

    #: benchmark name, e.g. "mathvista"
    name: ClassVar[str]
    #: doc fields whose values break accuracy down (e.g. ("subject",)) in `aggregate`
    breakdown: ClassVar[tuple[str, ...]] = ()
    #: bullet list of what `strict` changes relative to `official` (shown in the docs)
    STRICT_CHANGES: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def score(self, response: str, doc: dict[str, Any], mode: str = "strict") -> Verdict:
        """Score one response against one benchmark row."""

    @abstractmethod
    def prompt(self, doc: dict[str, Any]) -> str:
        """The benchmark's official text prompt for a row (images are given separately by `images`)."""

    def images(self, doc: dict[str, Any]) -> list[Any]:
        """The row's images in prompt order (PIL images or `{"bytes", "path"}` dicts)."""
        image = doc.get("decoded_image") or doc.get("image")
        return [image] if image is not None and not isinstance(image, str) else []

    def aggregate(self, docs: Sequence[dict[str, Any]], verdicts: Sequence[Verdict]) -> dict[str, Any]:
        """Accuracy overall and per `breakdown` field, plus flag counts. Benchmarks with their own metrics
        (DynaMath's worst case, We-Math's four dimensions, MMMU's discipline means) extend this."""
        return accuracy_table(docs, verdicts, self.breakdown)

    @staticmethod
    def check_mode(mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")


def accuracy_table(
    docs: Sequence[dict[str, Any]], verdicts: Sequence[Verdict], fields: Iterable[str]
) -> dict[str, Any]:
    """`{"accuracy", "count", "flags": {...}, "<field>": {value: {"accuracy", "count"}}}` (accuracy in [0, 1])."""
    total = len(verdicts)
    result: dict[str, Any] = {
        "accuracy": sum(v.correct for v in verdicts) / total if total else 0.0,
        "count": total,
        "flags": dict(_count(flag for v in verdicts for flag in v.flags)),
    }
    for name in fields:
        groups: dict[str, list[bool]] = defaultdict(list)
        for doc, verdict in zip(docs, verdicts):
            groups[str(_field(doc, name))].append(verdict.correct)
        result[name] = {k: {"accuracy": sum(v) / len(v), "count": len(v)} for k, v in sorted(groups.items())}
    return result


def _field(doc: dict[str, Any], name: str) -> Any:
    """`doc[name]`, also looking inside a `metadata` dict (MathVista/MathVerse keep categories there)."""
    if name in doc:
        return doc[name]
    metadata = doc.get("metadata") or {}
    return metadata.get(name) if isinstance(metadata, dict) else None


def _count(items: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for item in items:
        counts[item] += 1
    return counts


__all__ = [
    "MAX_DIGITS",
    "MAX_EDIT_CHARS",
    "MAX_RESPONSE_CHARS",
    "MAX_SPAN_CHARS",
    "MODES",
    "OVER_BOUND",
    "STRICT_READING",
    "BoundExceeded",
    "Scorer",
    "Verdict",
    "accuracy_table",
    "bounded",
    "check_span",
]  # fmt: skip
