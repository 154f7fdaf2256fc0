"""Synthesis engine: pipelines (stages) over rows, run by a resumable job runner, scaled out over many workers.

* [`Stage`], [`StageFailure`], [`JobSummary`] (`stage`): the contract between a pipeline and the runner;
* [`run_job`] (`runner`): input rows → stage → Parquet shards, committed atomically, resumable after kill -9.
"""

from __future__ import annotations

import importlib
from typing import Any

# Lazy attributes (PEP 562): importing `mmreason.synth` pulls in neither pyarrow nor a backend.
_EXPORTS = {
    "JobSummary": "stage",
    "Stage": "stage",
    "StageFailure": "stage",
    "JobMismatchError": "runner",
    "run_job": "runner",
}


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)


__all__ = sorted(_EXPORTS)
