"""`datasets` builders for the raw corpora (datasets 5 has no loading scripts: instantiate them directly)."""

from .base import CorpusBuilder, CorpusBuilderConfig, CorpusSpec, SubsetSpec
from .llava_json import LlavaJson, llava_json_spec
from .mammoth_vl import MAMMOTH_VL, MAmmoTHVLInstruct
from .visualwebinstruct import VISUALWEBINSTRUCT, VisualWebInstruct

CORPORA = {spec.name: spec for spec in (MAMMOTH_VL, VISUALWEBINSTRUCT)}

__all__ = [
    "CORPORA",
    "MAMMOTH_VL",
    "VISUALWEBINSTRUCT",
    "CorpusBuilder",
    "CorpusBuilderConfig",
    "CorpusSpec",
    "LlavaJson",
    "MAmmoTHVLInstruct",
    "SubsetSpec",
    "VisualWebInstruct",
    "llava_json_spec",
]
