"""`datasets` builders for the raw corpora (datasets 5 has no loading scripts: instantiate them directly)."""

from .base import CorpusBuilder, CorpusBuilderConfig, CorpusSpec, SubsetSpec
from .canonical_rows import CanonicalRows, canonical_to_row, looks_like_rows, rows_spec
from .llava_json import LlavaJson, llava_json_spec
from .mammoth_vl import MAMMOTH_VL, MAmmoTHVLInstruct
from .visualwebinstruct import VISUALWEBINSTRUCT, VisualWebInstruct

CORPORA = {spec.name: spec for spec in (MAMMOTH_VL, VISUALWEBINSTRUCT)}

__all__ = [
    "CORPORA",
    "MAMMOTH_VL",
    "VISUALWEBINSTRUCT",
    "CanonicalRows",
    "CorpusBuilder",
    "CorpusBuilderConfig",
    "CorpusSpec",
    "LlavaJson",
    "MAmmoTHVLInstruct",
    "SubsetSpec",
    "VisualWebInstruct",
    "canonical_to_row",
    "llava_json_spec",
    "looks_like_rows",
    "rows_spec",
]
