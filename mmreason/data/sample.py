"""The bundled sample rows: eight MAmmoTH-VL-style rationale rows (charts, geometry, counting, OCR, a multi-image
and a text-only row) in mmreason's row format, for the demo, the docs and smoke tests.

Row format: `messages` in HF chat format whose image parts are `{"type": "image"}` placeholders, filled in order
from the `images` column; metadata `id`, `source`, `category`, `quality_group`.
"""

from __future__ import annotations

import json
from pathlib import Path

import datasets

from .schema import FEATURES

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "assets" / "sample"


def load_sample_dataset() -> datasets.Dataset:
    """The sample rows as a `datasets.Dataset` in the canonical schema (`images` decoded to PIL on access)."""
    rows = [json.loads(line) for line in (SAMPLE_DIR / "rows.jsonl").read_text().splitlines() if line.strip()]
    for row in rows:
        row["images"] = [str(SAMPLE_DIR / path) for path in row["images"]]
        row.setdefault("videos", [])
    return datasets.Dataset.from_list(rows, features=FEATURES)
