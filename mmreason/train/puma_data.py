"""PUMA pair rows for training: the pair collator and the pair check of the shared sample hygiene.

A pair row (what `mmreason data prepare math-puma` writes) holds one problem twice: `text_rich` +
`text_rich_images` (the teacher side, Math-PUMA's `image_url`/`instruction`/`output`; may be text-only) and
`vision_rich` + `vision_rich_images` (the student side, the `_2` keys). Both are canonical messages ending in the
same assistant turn, the `answer`.

* [`PUMAPairCollator`] collates each side with [`MultimodalSFTCollator`] (labels from the chat template's generation
  markers: the answer and its `<|im_end|>\\n`, as Math-PUMA supervises the answer and EOS) into
  `{"teacher": batch, "student": batch}`, and refuses a batch whose two sides' supervised tokens differ in any row.
* [`PUMARowValidator`] is the [`RowValidator`] the PUMA trainer hands to `MultimodalTrainerMixin.check_samples`: both
  sides get the SFT checks (roles, empty turns, placeholder counts, images decoded, exact token count; issues of the
  text-rich side are prefixed `text_rich:`), the row's length is the longer side's (so `max_length` drops a pair
  when either side would not fit), and, with `drop_invalid`, a pair whose sides end in different answers is
  dropped as `answer_mismatch`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from ..data.validate import RowCheck, RowValidator
from ..model.processing_mmreason import MMReasonProcessor
from .collator import IGNORE_INDEX, MultimodalSFTCollator

#: (side, messages column, images column); the teacher side first
PUMA_SIDES = (("teacher", "text_rich", "text_rich_images"), ("student", "vision_rich", "vision_rich_images"))


def side_row(row: dict[str, Any], messages: str, images: str) -> dict[str, Any]:
    """One side of a pair row as a canonical row (`id`, `messages`, `images`)."""
    return {"id": row.get("id"), "messages": row[messages], "images": list(row.get(images) or [])}


def final_answer(messages: list[dict[str, Any]]) -> str | None:
    """The text of the last message if it is an assistant turn, else `None`."""
    if not messages or messages[-1].get("role") != "assistant":
        return None
    content = messages[-1].get("content")
    if isinstance(content, str):
        return content
    return "".join(part.get("text") or "" for part in content or [] if part.get("type") == "text")


@dataclass
class PUMAPairCollator:
    """Collate PUMA pair rows into `{"teacher": batch, "student": batch}` (each a [`MultimodalSFTCollator`] batch).

    Args:
        processor: the model's processor.
        chat_template: template to render both sides with (default: the processor's).
        max_frames: frames per video (passed to the SFT collator; pair rows carry images only).
    """

    processor: MMReasonProcessor
    chat_template: str | None = None
    max_frames: int = 32
    side: MultimodalSFTCollator = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.side = MultimodalSFTCollator(
            self.processor, chat_template=self.chat_template, label_mode="assistant_only", max_frames=self.max_frames
        )

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        batch = {name: self.side([side_row(row, m, i) for row in examples]) for name, m, i in PUMA_SIDES}
        teacher, student = batch["teacher"]["labels"], batch["student"]["labels"]
        for row, example in enumerate(examples):
            if not torch.equal(teacher[row][teacher[row] != IGNORE_INDEX], student[row][student[row] != IGNORE_INDEX]):
                raise ValueError(
                    f"pair {example.get('id')!r}: the text-rich and vision-rich sides supervise different tokens "
                    "(their answers differ), so the KL positions would not align"
                )
        return batch


class PUMARowValidator(RowValidator):
    """A [`RowValidator`] for PUMA pair rows (see the module docstring); other rows are checked as usual."""

    def check(self, row: dict[str, Any]) -> RowCheck:
        if "vision_rich" not in row:
            return super().check(row)
        checks = {name: super(PUMARowValidator, self).check(side_row(row, m, i)) for name, m, i in PUMA_SIDES}
        result = RowCheck()
        for name, check in checks.items():
            prefix = "text_rich: " if name == "teacher" else ""
            result.issues += [(r, prefix + d) for r, d in check.issues if r != "over_length"]
        counts = [check.num_tokens for check in checks.values()]
        if None not in counts:
            result.num_tokens = max(counts)
            if self.max_length is not None and result.num_tokens > self.max_length:
                result.issues.append(
                    ("over_length", f"{result.num_tokens} tokens (longer side) > max_length {self.max_length}")
                )
        answers = [final_answer(row[m] or []) for _, m, _ in PUMA_SIDES]
        if answers[0] is None or answers[0] != answers[1]:
            result.issues.append(("answer_mismatch", "the two sides do not end in the same assistant answer"))
        return result


__all__ = ["PUMA_SIDES", "PUMAPairCollator", "PUMARowValidator", "final_answer", "side_row"]
