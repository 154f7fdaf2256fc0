"""The `procedural` benchmark (mmreason's own set, `mmreason.data.procedural`): a strict "Final answer: X" reading.

The set has no external official script: its protocol is the rule the training rationales follow. The answer is
the text after the last "Final answer:" (any case) up to the end of that line, trimmed of spaces, `*`/`` ` ``
emphasis and one trailing period, and compared with the gold answer case-insensitively and otherwise exactly
(the gold answers are canonical: "7", "4:30", "B", "red"). No "Final answer:" is a miss flagged `no_answer`;
nothing else in the response is read. `official` and `strict` are the same reading.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from ...data.procedural.problem import user_prompt
from .base import Scorer, Verdict, bounded, check_span

_FINAL = re.compile(r"final answer:", re.IGNORECASE)
_EMPHASIS = "*`"


def normalise(text: str) -> str:
    """`text` without surrounding whitespace, `*`/`` ` `` emphasis and one trailing period (gold answers and
    responses alike)."""
    text = text.strip().strip(_EMPHASIS).strip()
    text = text[:-1] if text.endswith(".") else text
    return text.strip().strip(_EMPHASIS).strip()


def final_answer(response: str) -> str | None:
    """The normalised text after the last "Final answer:" on its line, `None` when there is none (or it is
    empty)."""
    last = None
    for match in _FINAL.finditer(response):
        last = match
    if last is None:
        return None
    return normalise(response[last.end() :].split("\n", 1)[0]) or None


class ProceduralScorer(Scorer):
    """Scorer of the `procedural` benchmark (same protocol in both modes)."""

    name = "procedural"
    breakdown: ClassVar[tuple[str, ...]] = ("subset", "level", "view", "family")
    STRICT_CHANGES: ClassVar[tuple[str, ...]] = (
        "None: the set is mmreason's own and both modes read the last 'Final answer:' line exactly (trimmed, "
        "case-insensitive).",
    )

    def prompt(self, doc: dict[str, Any]) -> str:
        """The question (with the scene description in the text view), the choices and the answer instruction:
        the same text as the set's SFT rows."""
        return user_prompt(str(doc["question"]), list(doc.get("choices") or []) or None)

    @bounded
    def score(self, response: str, doc: dict[str, Any], mode: str = "strict") -> Verdict:
        span = check_span(final_answer(response))
        if span is None:
            return Verdict(False, None, ["no_answer"])
        return Verdict(span.casefold() == normalise(str(doc["answer"])).casefold(), span)


__all__ = ["ProceduralScorer", "final_answer", "normalise"]
