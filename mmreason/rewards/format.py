"""[`FormatReward`]: 1.0 when a completion ends in a readable final answer — a non-empty `Final answer: …` line
(the recipes' format, read as the scorers read it: the last one counts) or a balanced `\\boxed{…}` — else 0.0."""

from __future__ import annotations

import re
from typing import Any

from .accuracy import completion_text

_FINAL = re.compile(r"final answer\s*[:：]\s*(\S[^\n]*)", re.IGNORECASE)  # noqa: RUF001 (a full-width colon too)


def _boxed(text: str) -> bool:
    start = text.rfind("\\boxed{")
    if start < 0:
        return False
    depth, inside = 0, []
    for char in text[start + len("\\boxed") :]:
        depth += char == "{"
        depth -= char == "}"
        if depth == 0:
            return "".join(inside).strip("{ ") != ""
        inside.append(char)
    return False  # never closed


def has_final_answer(text: str, boxed: bool = True) -> bool:
    """Whether `text` holds a non-empty final-answer line (or, with `boxed`, a closed non-empty `\\boxed{}`)."""
    return bool(_FINAL.search(text)) or (boxed and _boxed(text))


class FormatReward:
    """Format reward: `has_final_answer` per completion (`boxed=False`: only the `Final answer:` line counts)."""

    def __init__(self, boxed: bool = True):
        self.boxed = boxed
        self.__name__ = "format"

    def __call__(self, prompts: list[Any] | None = None, completions: list[Any] | None = None,
                 **_: Any) -> list[float]:  # fmt: skip
        return [float(has_final_answer(completion_text(c), self.boxed)) for c in completions or []]


__all__ = ["FormatReward", "has_final_answer"]
