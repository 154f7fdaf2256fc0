"""Sample hygiene before training: drop (and report) what would be truncated through image tokens or crash.

Every row is checked with [`mmreason.data.validate.RowValidator`] (image headers only, so this is cheap): over
`max_length` (image tokens counted with the exact anyres arithmetic), and, with `drop_invalid`, placeholder/media
mismatches, unreadable images, empty turns and wrong role orders. Dropped rows are counted per reason, logged and
written to `<output_dir>/dropped_samples.jsonl`. The check also yields each kept row's token length, which the
modality-grouped sampler uses.
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from typing import Any

import datasets
import numpy as np

from ..data.validate import RowValidator

logger = logging.getLogger(__name__)


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
) -> tuple[Any, list[int] | None, Counter]:
    """Filter `dataset`; returns (kept dataset, token length of each kept row or `None` for iterable datasets,
    drop counts per reason)."""

    def verdict(row: dict[str, Any]) -> dict[str, Any]:
        check = validator.check(row)
        reasons = sorted({r for r, _ in check.issues if drop_invalid or r == "over_length"})
        media = bool(row.get("images")) or bool(row.get("videos"))
        return {"_reasons": reasons, "_length": (check.num_tokens or 0) * (1 if media else -1)}

    if isinstance(dataset, datasets.IterableDataset):
        counts: Counter = Counter()

        def keep(row: dict[str, Any]) -> bool:
            reasons = verdict(row)["_reasons"]
            counts.update(reasons)
            if reasons:
                logger.warning("dropping sample %s: %s", row.get("id"), ", ".join(reasons))
            return not reasons

        return dataset.filter(keep), None, counts
    checked = _undecoded(dataset).map(
        verdict, num_proc=num_proc, remove_columns=dataset.column_names, desc="Checking samples (length, media)"
    )
    reasons, lengths = checked["_reasons"], checked["_length"]
    kept = np.flatnonzero([not r for r in reasons])
    counts = Counter(reason for row in reasons for reason in row)
    if counts:
        ids = dataset["id"] if "id" in dataset.column_names else list(range(len(dataset)))
        logger.warning("dropping %d of %d samples: %s", len(dataset) - len(kept), len(dataset), dict(counts))
        if output_dir is not None:
            os.makedirs(output_dir, exist_ok=True)
            with open(os.path.join(output_dir, "dropped_samples.jsonl"), "w") as handle:
                for index, row_reasons in enumerate(reasons):
                    if row_reasons:
                        handle.write(json.dumps({"id": ids[index], "index": index, "reasons": row_reasons}) + "\n")
        dataset = dataset.select(kept)
    return dataset, [lengths[i] for i in kept], counts


__all__ = ["drop_untrainable"]
