"""Split a reasoning model's answer into its rationale and its final answer.

mmreason's recipes train models to reason step by step and end with a "Final answer: ..." line (the procedural
set, MAmmoTH-VL-style rationale SFT, MMPR pairs). A chat UI shows the steps as a collapsible reasoning section and
the final answer apart; while the answer streams in, everything before the marker is reasoning still in progress.
"""

from __future__ import annotations

from dataclasses import dataclass

#: the marker the recipes' rationales end with (the last one counts, as in the scorers)
FINAL_ANSWER_MARKERS = ("Final answer:", "Final Answer:", "FINAL ANSWER:")


@dataclass(frozen=True)
class SplitAnswer:
    """One answer, split: `reasoning` (the steps, stripped), `answer` (after the last marker, stripped; `None`
    while no marker has been generated) and `done` (a marker was found)."""

    reasoning: str
    answer: str | None

    @property
    def done(self) -> bool:
        """Whether the final answer has started (a marker was generated)."""
        return self.answer is not None


def split_answer(text: str) -> SplitAnswer:
    """`text` split at its last final-answer marker; without one, all of it is reasoning."""
    best = max(((text.rfind(m), m) for m in FINAL_ANSWER_MARKERS), key=lambda found: found[0])
    position, marker = best
    if position < 0:
        return SplitAnswer(text.strip(), None)
    return SplitAnswer(text[:position].strip(), text[position + len(marker) :].strip())


__all__ = ["FINAL_ANSWER_MARKERS", "SplitAnswer", "split_answer"]
