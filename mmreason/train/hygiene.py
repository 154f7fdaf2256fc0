"""Sample hygiene before training: drop (and report) what would be truncated through image tokens or crash.

Every row is checked with [`mmreason.data.validate.RowValidator`] (`image_check="full"`: images decoded): over
`max_length` (image tokens counted with the exact anyres arithmetic), and, with `drop_invalid`, placeholder/media
mismatches, unreadable images, empty turns and wrong role orders. Dropped rows are counted per reason, logged and
written to `<output_dir>/dropped_samples.jsonl` (`id`, `reasons`, `details`; `index` for map-style datasets).

* **Map-style datasets** are checked up front (the trainer runs this main-process-first, so `datasets` caches the
  check for the other ranks). Only the process asked to (`write_report`, the trainer's rank 0) writes the report.
  The check also yields each kept row's token length, which the modality-grouped sampler uses.
* **Iterable datasets** are filtered lazily, often inside dataloader worker processes, where an in-memory counter
  would be lost. So each drop is appended to the report as it happens (one `O_APPEND` write per line, atomic for
  concurrent workers), and the returned counts are a live [`DropLog`] view of that file: read them at any time,
  e.g. after training. Each pass over the stream appends its drops again (a second epoch reports them twice).
  Without a report file (no `output_dir`, or `write_report=False`) the counts are those of the calling process
  only. TRL peeks at the first row while setting up; the trainer empties the report afterwards (`DropLog.reset`).

[`check_drop_fraction`] stops a run before training when a map-style dataset kept no rows or lost more than
`max_drop_fraction` of them (a stream's drops are only known while it is read, so it is not checked).
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

import datasets
import numpy as np

from ..data.prepare import TooManyDropsError
from ..data.validate import RowValidator

logger = logging.getLogger(__name__)

REPORT_NAME = "dropped_samples.jsonl"


class DropLog(Mapping):
    """Drop counts per reason, read from a `dropped_samples.jsonl` report each time they are looked at."""

    def __init__(self, path: str):
        self.path = path

    def _counts(self) -> Counter:
        if not os.path.exists(self.path):
            return Counter()
        with open(self.path, encoding="utf-8") as handle:
            return Counter(reason for line in handle if line.strip() for reason in json.loads(line)["reasons"])

    def __getitem__(self, reason: str) -> int:
        counts = self._counts()
        if reason not in counts:
            raise KeyError(reason)
        return counts[reason]

    def __iter__(self) -> Iterator[str]:
        return iter(self._counts())

    def __len__(self) -> int:
        return len(self._counts())

    def __repr__(self) -> str:
        return f"DropLog({self.path!r}, {dict(self._counts())})"

    def reset(self) -> None:
        """Empty the report (e.g. after a peek at the stream that was not training)."""
        write_drop_report(self.path, [])


def _append(path: str, record: dict[str, Any]) -> None:
    """One line, one `write` on an `O_APPEND` descriptor: concurrent writers never interleave within a line."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (json.dumps(record, ensure_ascii=False, default=str) + "\n").encode("utf-8"))
    finally:
        os.close(fd)


def write_drop_report(path: str, records: list[dict[str, Any]]) -> None:
    """Write (replace) the drop report at `path`."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")


def _undecoded(dataset: datasets.Dataset) -> datasets.Dataset:
    """The same rows with media left as bytes (no image decoding while checking)."""
    for column in ("images", "videos"):
        feature = dataset.features.get(column)
        inner = getattr(feature, "feature", None)
        if inner is not None and hasattr(inner, "decode"):
            dataset = dataset.cast_column(column, datasets.List(type(inner)(decode=False)))
    return dataset


def drop_untrainable(
    dataset: datasets.Dataset | datasets.IterableDataset,
    validator: RowValidator,
    drop_invalid: bool = True,
    output_dir: str | None = None,
    num_proc: int | None = None,
    write_report: bool = True,
) -> tuple[Any, list[int] | None, Mapping[str, int]]:
    """Filter `dataset`; returns (kept dataset, token length of each kept row or `None` for iterable datasets,
    drop counts per reason). The report goes to `output_dir/dropped_samples.jsonl` when `output_dir` is given and
    `write_report` is true (in a multi-process run: rank 0 only)."""
    path = os.path.join(output_dir, REPORT_NAME) if output_dir is not None else None

    def verdict(row: dict[str, Any]) -> dict[str, Any]:
        check = validator.check(row)
        issues = [(r, d) for r, d in check.issues if drop_invalid or r == "over_length"]
        media = bool(row.get("images")) or bool(row.get("videos"))
        return {
            "_reasons": sorted({r for r, _ in issues}),
            "_details": [d for _, d in issues],
            "_length": (check.num_tokens or 0) * (1 if media else -1),
        }

    if isinstance(dataset, datasets.IterableDataset):
        recording = path is not None and write_report
        if recording:
            write_drop_report(path, [])  # this run's report starts empty
        local: Counter = Counter()

        def keep(row: dict[str, Any]) -> bool:
            result = verdict(row)
            if result["_reasons"]:
                logger.warning("dropping sample %s: %s", row.get("id"), ", ".join(result["_reasons"]))
                local.update(result["_reasons"])
                if recording:
                    _append(path, {"id": row.get("id"), "reasons": result["_reasons"], "details": result["_details"]})
            return not result["_reasons"]

        counts = DropLog(path) if path is not None and (recording or os.path.exists(path)) else local
        return dataset.filter(keep), None, counts

    checked = _undecoded(dataset).map(
        verdict, num_proc=num_proc, remove_columns=dataset.column_names, desc="Checking samples (length, media)"
    )
    reasons, lengths = checked["_reasons"], checked["_length"]
    kept = np.flatnonzero([not r for r in reasons])
    counts = Counter(reason for row in reasons for reason in row)
    if path is not None and write_report:  # written even when empty: never a stale report from an earlier run
        dropped = [i for i, r in enumerate(reasons) if r]
        ids = dataset.select(dropped)["id"] if "id" in dataset.column_names else dropped
        details = checked["_details"]
        write_drop_report(
            path,
            [{"id": id_, "index": i, "reasons": reasons[i], "details": details[i]} for id_, i in zip(ids, dropped)],
        )
    if counts:
        logger.warning("dropping %d of %d samples: %s", len(dataset) - len(kept), len(dataset), dict(counts))
        dataset = dataset.select(kept)
    return dataset, [lengths[i] for i in kept], counts


def check_drop_fraction(
    total: int, kept: int, counts: Mapping[str, int], max_drop_fraction: float, report: str | None
) -> None:
    """Raise [`~mmreason.data.prepare.TooManyDropsError`] (one line: per-reason counts and the drop report's path)
    if none of `total` rows was kept or more than `max_drop_fraction` of them were dropped."""
    dropped = total - kept
    if kept > 0 and dropped <= max_drop_fraction * total:
        return
    where = f"every dropped row and why: {report}" if report else "no drop report (set output_dir to get one)"
    limit = f"more than --max_drop_fraction {max_drop_fraction:g}" if kept else "no row left to train on"
    raise TooManyDropsError(
        f"sample hygiene kept {kept} of {total} rows, dropped {dropped} ({dropped / max(total, 1):.0%}, {limit}) "
        f"{dict(Counter(counts).most_common())}; {where}; stopped before training"
    )


__all__ = [
    "REPORT_NAME",
    "DropLog",
    "TooManyDropsError",
    "check_drop_fraction",
    "drop_untrainable",
    "write_drop_report",
]
