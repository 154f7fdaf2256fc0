"""Shared fixtures: tiny offline models and deterministic images; the suite's own `datasets` cache."""

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# A fresh `datasets` cache for the whole session (subprocesses inherit it), set before `datasets` is imported, so a
# warm cache on the machine can neither hide nor cause a failure.
DATASETS_CACHE = Path(tempfile.mkdtemp(prefix="mmreason-tests-hf-datasets-"))
os.environ["HF_DATASETS_CACHE"] = str(DATASETS_CACHE)
if "datasets" in sys.modules:  # imported by a plugin before this file: point its resolved default there too
    sys.modules["datasets"].config.HF_DATASETS_CACHE = DATASETS_CACHE

from mmreason.testing import build_tiny, make_image  # noqa: E402 (after the cache is set)


@pytest.fixture(scope="session", autouse=True)
def datasets_cache():
    """The session's `HF_DATASETS_CACHE` (removed at the end)."""
    yield DATASETS_CACHE
    shutil.rmtree(DATASETS_CACHE, ignore_errors=True)


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
