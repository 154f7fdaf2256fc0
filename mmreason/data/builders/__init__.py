"""`datasets` builders for the raw corpora (datasets 5 has no loading scripts: instantiate them directly)."""

from .base import CorpusBuilder, CorpusBuilderConfig, CorpusSpec, SubsetSpec
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
    "MAmmoTHVLInstruct",
    "SubsetSpec",
    "VisualWebInstruct",
]
