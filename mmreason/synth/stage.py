"""The contract between a synthesis pipeline and the job runner: [`Stage`], [`StageFailure`], [`JobSummary`].

A stage turns a batch of input rows into output rows. For each input row it returns either its output rows
(zero or more, each with a deterministic `id` derived from the input row's `id`, so a rerun writes the same ids)
or a [`StageFailure`] saying why the row could not be processed. The runner ([`mmreason.synth.runner.run_job`])
commits the outputs, records every failure with its reason and retries the retryable ones on the next run.

    class Uppercase:
        name = "uppercase"

        def settings(self) -> dict:
            return {"prompt": "upper@1"}

        def process_batch(self, rows):
            return [[{**row, "id": f"{row['id']}-up", "text": row["text"].upper()}] for row in rows]
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class StageFailure:
    """One input row the stage could not process.

    Args:
        reason: why, in a few words (e.g. "server error 500: ...", "no 'Final answer:' in 8 samples").
        retryable: `True` (a transient error: server down, timeout, rate limit) — the runner retries the row on the
            next run; `False` (the row itself is unusable) — recorded once and never retried.
    """

    reason: str
    retryable: bool = True


@runtime_checkable
class Stage(Protocol):
    """A synthesis step the job runner can run, resume and shard.

    Attributes:
        name: the stage's name (recorded in the job's state; a rerun under another name is refused).
    """

    name: str

    def settings(self) -> dict[str, Any]:
        """Everything that decides the outputs, JSON-able: prompt ids and versions, `backend.settings()` (model,
        sampling), thresholds. A rerun of a job whose settings differ is refused unless `allow_changed=True`."""
        ...

    def process_batch(self, rows: list[dict[str, Any]]) -> list[list[dict[str, Any]] | StageFailure]:
        """One entry per input row, in order: its output rows (0..n, each with a deterministic `id` derived from
        the input row's `id`) or a [`StageFailure`]."""
        ...


@dataclass
class JobSummary:
    """What a [`run_job`] call did, and where the job stands.

    Attributes:
        stage: the stage's name.
        out_dir: the job's folder (`data/` shards, `state.json`, `failures.jsonl`).
        input_rows: input rows the job has seen so far (all of them once `done`).
        done_rows: input rows whose outputs are committed (including rows with no outputs and rows that failed
            for good), over every run of the job.
        output_rows: output rows committed over every run of the job.
        shards: Parquet shards in `out_dir/data/`.
        pending_retries: input rows whose last attempt failed with a retryable error (retried by the next run).
        permanent_failures: input rows that failed with a non-retryable error (never retried).
        processed_this_run: input rows sent to the stage by this call (fresh rows and retries).
        failed_this_run: of those, the rows that failed.
        failure_reasons: this call's failures by reason.
        seconds: wall time of this call.
        rows_per_second: `processed_this_run / seconds`.
        done: every input row has been consumed and none waits for a retry.
    """

    stage: str
    out_dir: str
    input_rows: int = 0
    done_rows: int = 0
    output_rows: int = 0
    shards: int = 0
    pending_retries: int = 0
    permanent_failures: int = 0
    processed_this_run: int = 0
    failed_this_run: int = 0
    failure_reasons: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    rows_per_second: float = 0.0
    done: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The summary as a JSON-able dict."""
        return asdict(self)


__all__ = ["JobSummary", "Stage", "StageFailure"]
