"""Data in mmreason's one row format (`messages` + `images` [+ `videos`] + metadata, TRL-ready).

Flow: raw records (`json_stream`) → canonical rows (`llava`) with media from folders/archives (`media`) →
corpus readers and `datasets` builders (`corpus`, `builders`) → Parquet + dataset card (`prepare`) → checks
(`validate`).
"""

from __future__ import annotations

import importlib
from typing import Any

# Lazy attributes (PEP 562): `mmreason.data.json_stream` alone must not pull in `datasets`/`pyarrow`/matplotlib,
# so streaming readers in data workers stay small.
_EXPORTS = {
    "CORPORA": "builders",
    "LlavaJson": "builders",
    "MAmmoTHVLInstruct": "builders",
    "VisualWebInstruct": "builders",
    "JsonRecordReader": "json_stream",
    "JsonStreamError": "json_stream",
    "RecordError": "llava",
    "canonical_to_llava": "llava",
    "llava_to_canonical": "llava",
    "write_llava_json": "llava",
    "MediaNotFoundError": "media",
    "MediaStore": "media",
    "prepare_corpus": "prepare",
    "SAMPLE_DIR": "sample",
    "load_sample_dataset": "sample",
    "FEATURES": "schema",
    "row_features": "schema",
    "RowValidator": "validate",
    "ValidationReport": "validate",
    "validate_rows": "validate",
}


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)


__all__ = [
    "CORPORA",
    "FEATURES",
    "SAMPLE_DIR",
    "JsonRecordReader",
    "JsonStreamError",
    "LlavaJson",
    "MAmmoTHVLInstruct",
    "MediaNotFoundError",
    "MediaStore",
    "RecordError",
    "RowValidator",
    "ValidationReport",
    "VisualWebInstruct",
    "canonical_to_llava",
    "llava_to_canonical",
    "load_sample_dataset",
    "prepare_corpus",
    "row_features",
    "validate_rows",
    "write_llava_json",
]
