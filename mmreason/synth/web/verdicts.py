"""Reading the refinement models' replies: the validity filter ([`parse_validity`]), the consistency judge
([`parse_consistency`]) and the web-answer alignment ([`parse_alignment`]), plus the `Answer:` line of a sampled
answer ([`final_answer`]).

The seed read its validity reply line by line with `startswith` and `int()` on each index, so `QUESTION_VALID:
**yes**` counted as invalid and `QUESTION_IMAGES: 0, 1 (both)` crashed the item. Here each field is found on its
own line in any case, with markdown bold around names and values allowed; indices are the integers in the field,
out-of-range ones dropped; a missing image line keeps every image (the seed's prompt: "by default, consider all
images as valid"). A reply without a readable verdict is a [`ParseError`] (a retryable failure).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..pipelines.common import ParseError

SUBJECTS = ("math", "physics", "chemistry", "biology", "finance", "engineering", "computer science", "other")
_FIELD = r"^[ \t*#>-]*{name}[ \t*]*[:\uff1a][ \t*]*(.*)$"
_ANSWER = re.compile(r"^[ \t*#>]*(?:final[ \t]+)?answer[ \t*]*[:\uff1a][ \t*]*(.+?)[ \t*]*$", re.I | re.M)


def field_value(text: str, name: str) -> str | None:
    """The value of the last `NAME: value` line of a reply (`None` when there is none)."""
    found = re.findall(_FIELD.format(name=re.escape(name)), text, re.IGNORECASE | re.MULTILINE)
    return found[-1].strip().strip("*").strip() if found else None


def yes_no(value: str | None, what: str) -> bool:
    """`True`/`False` for a yes/no value (its first word), else [`ParseError`]."""
    word = re.match(r"[\W_]*([a-z]+)", (value or "").lower())
    if word is None or word.group(1) not in ("yes", "no"):
        raise ParseError(f"{what}: no yes/no in {value!r}" if value is not None else f"{what}: no verdict line")
    return word.group(1) == "yes"


def indices(value: str | None, count: int, base: int = 0) -> list[int]:
    """The distinct in-range indices named in a field (0-based; `base=1` for 1-based numbering), in order; all
    `count` of them when the field is missing."""
    if value is None:
        return list(range(count))
    found = [int(number) - base for number in re.findall(r"\d+", value)]
    return list(dict.fromkeys(i for i in found if 0 <= i < count))


@dataclass(frozen=True)
class Validity:
    """The validity filter's verdict: `valid`, the kept question / solution image indices, `subject`, `analysis`."""

    valid: bool
    question_images: list[int]
    solution_images: list[int]
    subject: str
    analysis: str


def parse_validity(text: str, question_images: int, solution_images: int) -> Validity:
    """Read a validity reply for an item with that many question and solution images."""
    valid = yes_no(field_value(text, "QUESTION_VALID"), "validity")
    subject = (field_value(text, "SUBJECT") or "other").lower().strip(" .")
    subject = next((s for s in SUBJECTS if subject.startswith(s)), "other")
    return Validity(valid, indices(field_value(text, "QUESTION_IMAGES"), question_images),
                    indices(field_value(text, "SOLUTION_IMAGES"), solution_images), subject,
                    field_value(text, "ANALYSIS") or "")  # fmt: skip


@dataclass(frozen=True)
class Consistency:
    """The consistency judge's verdict: `consistent` (all answers agree) and `agreeing` (0-based indices of the
    answers sharing the most common result)."""

    consistent: bool
    agreeing: list[int]


def parse_consistency(text: str, answers: int) -> Consistency:
    """Read a consistency-judge reply over `answers` answers numbered from 1."""
    consistent = yes_no(field_value(text, "CONSISTENT"), "consistency")
    agreeing = indices(field_value(text, "AGREEING"), answers, base=1)
    if consistent and field_value(text, "AGREEING") is None:
        agreeing = list(range(answers))
    return Consistency(consistent, agreeing)


@dataclass(frozen=True)
class Alignment:
    """The alignment verdict: `aligned` and the model's one-line `explanation`."""

    aligned: bool
    explanation: str


def parse_alignment(text: str) -> Alignment:
    """Read an alignment reply: "Yes" or "No" opening the first non-empty line, an explanation on the next."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        raise ParseError("alignment: empty reply")
    aligned = yes_no(lines[0], "alignment")
    rest = re.sub(r"^[\W_]*(yes|no)\b[\W_]*", "", lines[0], flags=re.IGNORECASE)
    return Alignment(aligned, (rest or (lines[1] if len(lines) > 1 else "")).strip())


def final_answer(text: str) -> str | None:
    """The value of a sampled answer's last `Answer:` line, or `None`."""
    found = _ANSWER.findall(text)
    return found[-1].strip() if found else None


__all__ = [
    "SUBJECTS", "Alignment", "Consistency", "Validity", "field_value", "final_answer", "indices", "parse_alignment",
    "parse_consistency", "parse_validity", "yes_no",
]  # fmt: skip
