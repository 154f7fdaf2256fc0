"""Data in mmreason's one row format (`messages` + `images`, TRL-ready)."""

from .sample import SAMPLE_DIR, load_sample_dataset

__all__ = ["SAMPLE_DIR", "load_sample_dataset"]
