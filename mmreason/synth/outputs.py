"""Reading a finished (or killed) job back: its committed output shards and its failure records, for a job run in
one process or sharded over ranks (`out_dir/rank-*/`); only what a `state.json` committed counts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .state import DATA_DIR, FAILURES_FILE, STATE_FILE, JobState


def job_data_files(out_dir: str | Path) -> list[Path]:
    """The committed output shards of a job (one process or sharded), in rank and shard order."""
    out = Path(out_dir)
    return sorted(out.glob(f"{DATA_DIR}/train-*.parquet")) + sorted(out.glob(f"rank-*/{DATA_DIR}/train-*.parquet"))


def read_parquet_rows(files: list[Path]) -> Any:
    """Parquet shards (a job's, or any) as one `datasets.Dataset`, empty shards left out — a commit whose rows all
    failed writes one, and `datasets` cannot read a Parquet file without a row group."""
    import datasets
    import pyarrow.parquet as pq

    files = [path for path in files if pq.ParquetFile(path).metadata.num_rows > 0]
    return datasets.Dataset.from_parquet([str(path) for path in files]) if files else datasets.Dataset.from_list([])


def read_failures(out_dir: str | Path) -> list[dict[str, Any]]:
    """Every recorded failed attempt of a job (one process or sharded): `index`, `id`, `reason`, `retryable`,
    `run` (and `rank` for a sharded job). Lines past a state's recorded length (a killed run's) are left out."""
    out, records = Path(out_dir), []
    for folder in [out, *sorted(out.glob("rank-*"))]:
        path = folder / FAILURES_FILE
        if not path.exists():
            continue
        committed = JobState.load(folder / STATE_FILE).failures_bytes
        with open(path, "rb") as handle:
            records += [json.loads(line) for line in handle.read(committed).splitlines() if line.strip()]
    return records


__all__ = ["job_data_files", "read_failures", "read_parquet_rows"]
