"""Raw corpora in the real layouts, written once per session."""

import pytest

from .corpus_fixtures import write_mammoth_vl, write_visualwebinstruct


@pytest.fixture(scope="session")
def mammoth_vl(tmp_path_factory):
    """(folder, records per subset) of a MAmmoTH-VL-Instruct-12M-layout corpus."""
    root = tmp_path_factory.mktemp("mammoth_vl")
    return root, write_mammoth_vl(root)


@pytest.fixture(scope="session")
def visualwebinstruct(tmp_path_factory):
    """(folder, records per file) of a VisualWebInstruct-layout corpus."""
    root = tmp_path_factory.mktemp("visualwebinstruct")
    return root, write_visualwebinstruct(root)
