"""Data in mmreason's one row format (`messages` + `images` [+ `videos`] + metadata, TRL-ready).

Flow: raw records (`json_stream`) → canonical rows (`llava`) with media from folders/archives (`media`) →
corpus readers and `datasets` builders (`corpus`, `builders`) → Parquet + dataset card (`prepare`) → checks
(`validate`).
"""

from .builders import CORPORA, LlavaJson, MAmmoTHVLInstruct, VisualWebInstruct
from .json_stream import JsonRecordReader, JsonStreamError
from .llava import RecordError, canonical_to_llava, llava_to_canonical, write_llava_json
from .media import MediaNotFoundError, MediaStore
from .prepare import prepare
from .sample import SAMPLE_DIR, load_sample_dataset
from .schema import FEATURES, row_features
from .validate import RowValidator, ValidationReport, validate_rows

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
    "prepare",
    "row_features",
    "validate_rows",
    "write_llava_json",
]
