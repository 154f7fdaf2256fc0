"""A synthesis job's on-disk state: what is committed, what failed, and what the job was run with.

    out_dir/
      data/train-00000.parquet ...   # committed output rows
      state.json                     # replaced atomically after each shard: see [`JobState`]
      failures.jsonl                 # every failed attempt: input index, id, reason, retryable, run
      summary.json                   # the last run's [`JobSummary`]

The input is checked chunk by chunk: each commit records the SHA-256 of the fresh input rows it consumed (their
content, images included, in order), so a rerun over other rows is caught at the first chunk that differs, before
any row after it is sent to the stage.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

STATE_FILE = "state.json"
FAILURES_FILE = "failures.jsonl"
SUMMARY_FILE = "summary.json"
DATA_DIR = "data"


def write_json_atomic(path: Path, data: Any) -> None:
    """Write `data` as JSON to `path` through a temporary file and a rename: readers see the old or the new file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, default=str))
    os.replace(tmp, path)


@dataclass
class JobState:
    """What has been committed for one job (or one rank of a sharded job).

    Attributes:
        fingerprint: the stage's name and settings the committed rows were made with.
        position: fresh input rows consumed: rows `[0, position)` are committed, failed for good or pending.
        chunks: `[end, sha256]` per commit that consumed fresh rows: the digest of input rows `[previous end, end)`.
        shards: committed shards (`data/train-00000.parquet` ... `train-{shards-1}`).
        shard_sha256: each shard file's SHA-256.
        output_rows: rows in the committed shards.
        pending: input indices whose last attempt failed with a retryable error.
        permanent: input rows that failed with a non-retryable error.
        failures_bytes: committed length of `failures.jsonl` (a rerun truncates it there).
        input_rows: the input's length once it was read to its end, else `None`.
        runs: how many runs started on this job.
        accepted_changes: changes accepted with `allow_changed=True`, one entry per run that accepted any.
    """

    fingerprint: dict[str, Any] | None = None
    position: int = 0
    chunks: list[list[Any]] = field(default_factory=list)
    shards: int = 0
    shard_sha256: list[str] = field(default_factory=list)
    output_rows: int = 0
    pending: list[int] = field(default_factory=list)
    permanent: int = 0
    failures_bytes: int = 0
    input_rows: int | None = None
    runs: int = 0
    accepted_changes: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> JobState:
        """The state in `path`, or a fresh one when there is none."""
        return cls(**json.loads(path.read_text())) if path.exists() else cls()

    def save(self, path: Path) -> None:
        """Replace `path` atomically with this state."""
        write_json_atomic(path, asdict(self))


def settings_changes(old: Any, new: Any, prefix: str = "") -> list[str]:
    """What differs between two JSON-able values (a job's recorded and current fingerprints), one line per leaf."""
    if isinstance(old, dict) and isinstance(new, dict):
        changes = []
        for key in [*old, *(key for key in new if key not in old)]:
            where = f"{prefix}.{key}" if prefix else str(key)
            if key not in new:
                changes.append(f"{where}: {old[key]!r} -> (removed)")
            elif key not in old:
                changes.append(f"{where}: (unset) -> {new[key]!r}")
            else:
                changes += settings_changes(old[key], new[key], where)
        return changes
    if _normalized(old) != _normalized(new):
        return [f"{prefix or 'value'}: {old!r} -> {new!r}"]
    return []


def _normalized(value: Any) -> Any:
    """`value` as it reads back from JSON (tuples become lists), so a recorded setting equals the live one."""
    return json.loads(json.dumps(value, default=str))


class RowDigest:
    """SHA-256 over rows' content in order: strings, numbers, bytes, nested lists/dicts (keys sorted) and images
    (`PIL.Image`: mode, size and pixels; `{"bytes", "path"}` dicts as they are). Unknown objects are refused."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()

    def update(self, row: Any) -> None:
        """Add one row."""
        self._feed(row)

    def hexdigest(self) -> str:
        """The digest of the rows added so far."""
        return self._hash.hexdigest()

    def _feed(self, value: Any) -> None:
        update = self._hash.update
        if value is None or isinstance(value, bool):
            update(f"<{value}>".encode())
        elif isinstance(value, int | float):
            update(f"<n{value!r}>".encode() if not (isinstance(value, float) and math.isnan(value)) else b"<nan>")
        elif isinstance(value, str):
            data = value.encode("utf-8", "surrogatepass")
            update(b"<s%d>" % len(data) + data)
        elif isinstance(value, bytes | bytearray | memoryview):
            update(b"<b%d>" % len(value) + bytes(value))
        elif isinstance(value, dict):
            update(b"<d%d>" % len(value))
            for key in sorted(value, key=str):
                self._feed(str(key))
                self._feed(value[key])
        elif isinstance(value, list | tuple):
            update(b"<l%d>" % len(value))
            for item in value:
                self._feed(item)
        elif hasattr(value, "tobytes") and hasattr(value, "mode") and hasattr(value, "size"):  # a PIL image
            self._feed({"mode": value.mode, "size": list(value.size), "pixels": value.tobytes()})
        elif hasattr(value, "tolist"):  # a numpy scalar or array
            self._feed(value.tolist())
        elif isinstance(value, io.IOBase):
            raise TypeError("an input row holds an open file; pass its bytes or path instead")
        else:
            raise TypeError(f"cannot fingerprint an input value of type {type(value).__name__}")


__all__ = [
    "DATA_DIR",
    "FAILURES_FILE",
    "STATE_FILE",
    "SUMMARY_FILE",
    "JobState",
    "RowDigest",
    "settings_changes",
    "write_json_atomic",
]
