"""`mmreason data validate`: report what would break or silently hurt training, never fix anything.

Per row it checks
* `bad_role`: roles other than system/user/assistant; `bad_role_order`: a system turn after the start,
  user/assistant not alternating from a user turn to a final assistant turn;
* `empty_turn`: a turn with neither text nor media;
* `image_count_mismatch` / `video_count_mismatch`: placeholders vs `images` / `videos`;
* `missing_image` / `corrupt_image`: no bytes and no file, or an image the processor would refuse (the shared
  inspector `mmreason.model.image_io.inspect_image`): a body that does not decode (`image_check="full"`, the
  default; catches truncation) or a header that does not open (`"header"`), more pixels than the processor's
  `max_image_pixels`, or a mode without a faithful RGB conversion (16-bit, float, ...);
* `over_length`: rendered length over `max_length`, counting each image with the processor's exact anyres
  arithmetic and each video at `max_frames` frames. Such rows are to be dropped whole, never truncated through
  their image tokens.

Output folder: `summary.json` (totals and counts per source and category), `dropped.jsonl` (id, source,
category, reasons, details), `token_lengths.png` (histogram with the budget marked).
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from ..model.chat_templates import ChatContentError, check_messages
from ..model.image_io import (
    DEFAULT_MAX_IMAGE_PIXELS,
    IMAGE_CHECKS,
    ImageError,
    ImageNotFoundError,
    inspect_image,
)
from .corpus import Drop
from .json_stream import JsonRecordReader, MalformedRecord
from .llava import RecordError, llava_to_canonical
from .media import MediaStore
from .reasons import name_the_file
from .schema import ROLES, count_parts


@dataclass
class RowCheck:
    """The verdict on one row: `issues` are `(reason, detail)` pairs; `num_tokens` is `None` if not countable."""

    issues: list[tuple[str, str]] = field(default_factory=list)
    num_tokens: int | None = None


def role_problem(messages: list[dict[str, Any]]) -> str | None:
    """Why the role sequence is wrong, or `None`: [system] user assistant (user assistant)*."""
    roles = [message["role"] for message in messages]
    if not roles:
        return "no turns"
    unknown = sorted({role for role in roles if role not in ROLES})
    if unknown:
        return f"unknown role(s) {unknown}"
    body = roles[1:] if roles[0] == "system" else roles
    if "system" in body:
        return "a system turn after the first turn"
    expected = ["user", "assistant"] * (len(body) // 2 + 1)
    if not body or body != expected[: len(body)] or body[-1] != "assistant":
        return f"expected user/assistant alternation ending with assistant, got {body}"
    return None


def _has_content(message: dict[str, Any]) -> bool:
    content = message["content"]
    if isinstance(content, str):
        return bool(content.strip())
    return any(part["type"] != "text" or (part.get("text") or "").strip() for part in content)


def image_size(item: Any, check: str, max_pixels: int | None = DEFAULT_MAX_IMAGE_PIXELS) -> tuple[int, int]:
    """`(height, width)` after EXIF orientation of an image as the processor will read it (any source it takes).

    Goes through [`mmreason.model.image_io.inspect_image`]: `check="full"` decodes the pixels (catches truncated
    bodies), `"header"` reads the header only; both check the pixel cap and the mode. Raises `FileNotFoundError`
    for a missing image, `ImageError` for an unusable one.
    """
    if isinstance(item, dict) and not item.get("bytes") and not item.get("path"):
        raise FileNotFoundError("no bytes and no path")
    try:
        info = inspect_image(item, max_pixels, check)
    except ImageNotFoundError as error:
        raise FileNotFoundError(str(error)) from error
    return info.height, info.width


class RowValidator:
    """Checks rows against one processor (tokenizer, chat template, anyres arithmetic) and a token budget."""

    def __init__(
        self,
        processor: Any,
        max_length: int | None = 8192,
        image_check: str = "full",
        max_frames: int = 32,
        chat_template: str | None = None,
    ):
        if image_check not in IMAGE_CHECKS:
            raise ValueError(f"image_check must be 'full' or 'header', not {image_check!r}")
        # the processor's own cap: a row it would refuse is reported here instead of killing the collator
        image_processor = getattr(processor, "image_processor", None)
        self.max_image_pixels = getattr(image_processor, "max_image_pixels", DEFAULT_MAX_IMAGE_PIXELS)
        self.processor, self.max_length, self.image_check, self.max_frames = (
            processor,
            max_length,
            image_check,
            max_frames,
        )
        self.chat_template = chat_template

    def check(self, row: dict[str, Any]) -> RowCheck:
        result = RowCheck()
        messages = row.get("messages") or []
        try:  # what the chat template refuses (a `None` text, dict content, unknown parts) would kill the collator
            check_messages(messages)
        except ChatContentError as error:
            result.issues.append(("malformed", str(error)))
            return result
        problem = role_problem(messages)
        if problem:  # an unknown role is `bad_role`, as when prepare reads the record (mmreason.data.reasons)
            result.issues.append(("bad_role" if problem.startswith("unknown role") else "bad_role_order", problem))
        empty = [index for index, message in enumerate(messages) if not _has_content(message)]
        if empty:
            result.issues.append(("empty_turn", f"turn(s) {empty} have no text and no media"))
        images, videos = list(row.get("images") or []), list(row.get("videos") or [])
        for kind, items in (("image", images), ("video", videos)):
            placeholders = count_parts(messages, kind)
            if placeholders != len(items):
                result.issues.append(
                    (f"{kind}_count_mismatch", f"{placeholders} placeholder(s), {len(items)} {kind}s")
                )
        for index, item in enumerate(videos):
            if isinstance(item, dict) and not item.get("bytes") and not os.path.isfile(item.get("path") or ""):
                result.issues.append(("missing_video", f"video {index}: {item.get('path')!r} not found"))
        sizes = []
        for index, item in enumerate(images):
            try:
                sizes.append(image_size(item, self.image_check, self.max_image_pixels))
            except FileNotFoundError as error:
                result.issues.append(("missing_image", f"image {index}: {error}"))
            except ImageError as error:
                path = (item.get("path") if isinstance(item, dict) else None) or ""
                detail = name_the_file(f"{type(error).__name__}: {error}", path or f"image {index}")
                result.issues.append(("corrupt_image", f"image {index}{f' {path!r}' if path else ''}: {detail}"))
        if len(sizes) == len(images) and not problem:
            result.num_tokens = self.count_tokens(messages, sizes, len(videos))
            if self.max_length is not None and result.num_tokens > self.max_length:
                result.issues.append(("over_length", f"{result.num_tokens} tokens > max_length {self.max_length}"))
        return result

    def count_tokens(self, messages: list[dict[str, Any]], sizes: list[tuple[int, int]], num_videos: int) -> int:
        """Rendered length: chat template text tokens, each placeholder replaced by its expansion."""
        processor = self.processor
        text = processor.apply_chat_template(messages, chat_template=self.chat_template, tokenize=False)
        tokens = len(processor.tokenizer(text, add_special_tokens=False)["input_ids"])
        tokens += sum(processor.count_image_tokens(sizes)) - len(sizes) if sizes else 0
        tokens += num_videos * (processor.count_video_tokens(self.max_frames) - 1)
        return tokens


@dataclass
class ValidationReport:
    """Totals, per-source/category counts, token lengths and the dropped rows."""

    rows: int = 0
    issues: Counter = field(default_factory=Counter)
    by_source: dict = field(default_factory=lambda: defaultdict(Counter))
    by_category: dict = field(default_factory=lambda: defaultdict(Counter))
    lengths: list[int] = field(default_factory=list)
    dropped: list[dict[str, Any]] = field(default_factory=list)

    def add(self, row: dict[str, Any], check: RowCheck) -> None:
        self.rows += 1
        reasons = sorted({reason for reason, _ in check.issues})
        for table, key in ((self.by_source, row.get("source", "")), (self.by_category, row.get("category", ""))):
            table[key]["rows"] += 1
            table[key]["dropped"] += bool(reasons)
            table[key].update(reasons)
        self.issues.update(reasons)
        if check.num_tokens is not None:
            self.lengths.append(check.num_tokens)
        if reasons:
            self.dropped.append(
                {
                    "id": row.get("id"),
                    "source": row.get("source"),
                    "category": row.get("category"),
                    "reasons": reasons,
                    "details": [f"{reason}: {detail}" for reason, detail in check.issues],
                }
            )

    def add_drop(self, drop: Drop) -> None:
        """Count a record that could not even be read as a row (malformed JSON, unknown role, ...)."""
        self.add({"id": drop.id, "source": "", "category": ""}, RowCheck(issues=[(drop.reason, drop.detail)]))

    def summary(self, max_length: int | None) -> dict[str, Any]:
        lengths = sorted(self.lengths)
        quantiles = {f"p{q}": lengths[min(len(lengths) - 1, len(lengths) * q // 100)] for q in (50, 90, 99)}
        return {
            "rows": self.rows,
            "kept": self.rows - len(self.dropped),
            "dropped": len(self.dropped),
            "issues": dict(self.issues),
            "max_length": max_length,
            "tokens": {"max": lengths[-1], "mean": sum(lengths) / len(lengths), **quantiles} if lengths else {},
            "by_source": {key: dict(value) for key, value in sorted(self.by_source.items())},
            "by_category": {key: dict(value) for key, value in sorted(self.by_category.items())},
        }

    def write(self, out: str | os.PathLike, max_length: int | None) -> Path:
        """Write `summary.json`, `dropped.jsonl` and `token_lengths.png` into `out`."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "summary.json").write_text(json.dumps(self.summary(max_length), indent=2))
        with open(out / "dropped.jsonl", "w", encoding="utf-8") as handle:
            for record in self.dropped:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        plot_lengths(self.lengths, max_length, out / "token_lengths.png")
        return out


def plot_lengths(lengths: list[int], max_length: int | None, path: Path) -> None:
    """Histogram of rendered token lengths, the budget as a vertical line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4))
    axis.hist(lengths or [0], bins=min(60, max(5, len(set(lengths)))), color="#4c72b0")
    if max_length is not None:
        over = sum(length > max_length for length in lengths)
        axis.axvline(max_length, color="#c44e52", linestyle="--", label=f"max_length {max_length} ({over} over)")
        axis.legend()
    axis.set_xlabel("tokens per sample (text + image/video placeholders expanded)")
    axis.set_ylabel("samples")
    axis.set_title(f"Token lengths of {len(lengths)} samples")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def llava_rows(path: str | os.PathLike, media: MediaStore) -> Iterator[dict[str, Any] | Drop]:
    """Rows of a LLaVA JSON/JSONL file for validation: media read from `media` where found (else left as a bare
    path, which the validator reports missing); unreadable records come out as [`Drop`]s."""
    stem = Path(path).name.split(".")[0]
    for number, record in enumerate(JsonRecordReader(path)):
        default_id = f"{stem}-{number}"
        if isinstance(record, MalformedRecord):
            yield Drop(default_id, "malformed_json", f"line {record.line}: {record.error}", str(path))
            continue
        try:
            row = llava_to_canonical(record, default_id)
        except RecordError as error:
            yield Drop(error.record_id or default_id, error.reason, str(error), str(path))
            continue
        for column in ("images", "videos"):
            row[column] = [{"bytes": media.read(p) if p in media else None, "path": p} for p in row[column]]
        yield row


def validate_rows(
    rows: Iterable[dict[str, Any] | Drop],
    validator: RowValidator,
    progress: bool = True,
    total: int | None = None,
) -> ValidationReport:
    """Check every row; rows are never modified."""
    report = ValidationReport()
    for row in tqdm(rows, total=total, disable=not progress, desc="validate", unit="rows"):
        if isinstance(row, Drop):
            report.add_drop(row)
        else:
            report.add(row, validator.check(row))
    return report


__all__ = [
    "RowCheck",
    "RowValidator",
    "ValidationReport",
    "image_size",
    "llava_rows",
    "plot_lengths",
    "role_problem",
    "validate_rows",
]
