"""Fixtures shared by the checkpoint tests."""

import huggingface_hub
import pytest

from .llava_next_fixture import write_hf_cache


@pytest.fixture
def offline_hf_cache(tmp_path_factory, monkeypatch):
    """A warm HF cache holding only the SigLIP tower's config, and no network (HF_HUB_OFFLINE=1)."""
    cache = write_hf_cache(tmp_path_factory.mktemp("hub"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return cache
