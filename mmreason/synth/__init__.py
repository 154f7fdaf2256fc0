"""Synthesis engine: pipelines (stages) over rows, run by a resumable job runner, scaled out over many workers.

* [`Stage`], [`StageFailure`], [`JobSummary`] (`stage`): the contract between a pipeline and the runner;
* [`run_job`] (`runner`): input rows → stage → Parquet shards, committed atomically, resumable after kill -9;
  [`job_data_files`] / [`read_failures`] (`outputs`): a job's shards and failure records;
* `executors`: the same job over many workers on datatrove (local processes, Slurm, Ray) — [`job_summary`],
  [`server_for_rank`].

Guide: `examples/docs/synth.md`.
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
    "job_data_files": "outputs",
    "read_failures": "outputs",
    "run_job": "runner",
    "job_summary": "executors",
    "server_for_rank": "executors",
}


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)


__all__ = sorted(_EXPORTS)
