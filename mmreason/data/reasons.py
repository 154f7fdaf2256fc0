"""The one list of reasons a record or row is dropped, shared by `data prepare`, `data validate` and SFT hygiene.

Each defect has exactly one name, whichever step finds it: a `<image>` placeholder without its image is an
`image_count_mismatch` in `prepare_logs/<subset>.drops.jsonl`, in `validate`'s `dropped.jsonl` and in the
trainer's `dropped_samples.jsonl` alike.
"""

from __future__ import annotations

import re

_OBJECT_REPR = re.compile(r"<[\w.]+ object at 0x[0-9a-fA-F]+>")

DROP_REASONS: dict[str, str] = {
    "malformed_json": "the text is not valid JSON (the detail gives the file, line and position)",
    "malformed": "valid JSON but not a LLaVA record (no `conversations` list, a turn without a string value, ...)",
    "invalid_unicode": "text that is not valid Unicode (a lone surrogate such as a cut emoji `\\ud83d`)",
    "bad_role": "a turn whose role is not system/user/assistant (human/gpt in LLaVA JSON)",
    "bad_role_order": "known roles in the wrong order (not [system] user assistant (user assistant)*)",
    "empty_turn": "a turn with neither text nor media",
    "image_count_mismatch": "the number of image placeholders differs from the number of images",
    "video_count_mismatch": "the number of video placeholders differs from the number of videos",
    "missing_image": "an image path that is in no media folder or archive",
    "missing_video": "a video path that is in no media folder or archive",
    "corrupt_image": "image bytes that do not open as an image",
    "corrupt_video": "video bytes that cannot be read",
    "over_length": "the rendered sample (image/video tokens expanded) is longer than `max_length`",
    "empty_completion": "a preference pair whose chosen or rejected response has no text",
    "identical_completions": "a preference pair whose chosen and rejected responses are the same text",
    "empty_answer": "a PUMA pair whose answer (`output`) has no text",
    "answer_mismatch": "a PUMA pair whose two sides answer differently (`output` != `output_2`)",
}
"""Reason name → what it means. Every drop mmreason reports uses one of these names."""


def name_the_file(detail: str, name: str) -> str:
    """`detail` with in-memory file objects (`<_io.BytesIO object at 0x7f…>`, as PIL names bytes it cannot open)
    replaced by `name`, the file's path: a drop detail must say which file and read the same on every run."""
    return _OBJECT_REPR.sub(repr(name), detail)


__all__ = ["DROP_REASONS", "name_the_file"]
