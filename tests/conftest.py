"""Shared fixtures: tiny offline models and deterministic images."""

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from mmreason.testing import build_tiny, make_image


@pytest.fixture(scope="session")
def tiny():
    """(model, processor) with 32 px tiles and anyres_max_4."""
    return build_tiny()


@pytest.fixture(scope="session")
def images():
    """A wide, a tall and a small image."""
    return {
        "wide": make_image(150, 60, seed=1),
        "tall": make_image(40, 130, seed=2),
        "small": make_image(20, 14, seed=3),
    }
