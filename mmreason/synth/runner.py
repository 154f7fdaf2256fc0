"""[`run_job`]: input rows → a [`Stage`] → output rows as Parquet shards, resumable after a kill at any moment.

The protocol is `mmreason data prepare`'s (`mmreason.data.prepare`): output rows are buffered into a
[`ShardWriter`], each shard is written under a temporary name and renamed, then `state.json` is replaced
atomically with the input position, the shard count, the failures file's length and the rows waiting for a
retry. A rerun deletes shards past the recorded count, truncates `failures.jsonl` to its recorded length and goes
on from the recorded position, so however often a job is killed (`kill -9` included), the finished job holds
every output row exactly once. Rows are committed in batches: what a killed run had not committed is redone.

Refused reruns ([`JobMismatchError`], unless `allow_changed=True`): another stage name or other
`stage.settings()` (prompt, model, sampling), other output features, or other input rows — a different length,
or different content of a chunk of rows already committed (checked by SHA-256 as the input is re-read, before
any row after the chunk is processed).

Failures: a row the stage returns a [`StageFailure`] for is written to `failures.jsonl` with its reason; a
retryable one is retried by the next run (before the run goes on with fresh rows), a non-retryable one is not.

Layout: `out_dir/data/train-*.parquet`, `state.json`, `failures.jsonl`, `summary.json` (see
`mmreason.synth.state`); a job sharded over `N` workers has one such folder per rank,
`out_dir/rank-00003-of-00008/` (see `mmreason.synth.executors`). `mmreason.synth.outputs` reads either back.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from .stage import JobSummary, Stage, StageFailure
from .state import (
    DATA_DIR,
    FAILURES_FILE,
    STATE_FILE,
    SUMMARY_FILE,
    JobState,
    RowDigest,
    settings_changes,
    write_json_atomic,
)

logger = logging.getLogger(__name__)

StageFactory = Callable[[int, int], Stage]
"""Builds the stage of one rank: `(rank, world_size) -> Stage` (e.g. to give each rank its own server)."""


class JobMismatchError(ValueError):
    """`out_dir` holds a run of this job with other stage settings, features or input rows."""


def run_job(
    stage: Stage | StageFactory,
    rows: Iterable[dict[str, Any]] | Callable[[], Iterable[dict[str, Any]]],
    out_dir: str | Path,
    *,
    batch_size: int = 32,
    shard_rows: int = 10_000,
    shard_bytes: int = 256 << 20,
    resume: bool = True,
    allow_changed: bool = False,
    workers: int = 1,
    executor: str = "local",
    features: Any = None,
    commit_seconds: float = 60.0,
    progress: bool = True,
    executor_options: dict[str, Any] | None = None,
) -> JobSummary:
    """Run `stage` over `rows` into `out_dir`, resuming a previous run of the same job.

    Args:
        stage: a [`Stage`], or a factory `(rank, world_size) -> Stage` (called once per rank).
        rows: the input rows in a fixed order: a list, a `datasets.Dataset`, any iterable (one process only), or
            a zero-argument callable returning one (what workers on other machines call to read their rows).
        out_dir: the job's folder.
        batch_size: rows per `stage.process_batch` call (at least the backend's concurrency, to keep it busy).
        shard_rows, shard_bytes: output rows / media bytes per shard; a shard is also committed after
            `commit_seconds` so a kill never loses more than that much work.
        resume: `False` discards the job's outputs, state and failures log and starts afresh.
        allow_changed: go on with changed settings or input rows (the changes are recorded in the state).
        workers: parallel workers (ranks); each rank takes every `workers`-th input row and has its own folder.
        executor: `"local"` (one process, or datatrove's `LocalPipelineExecutor` for `workers > 1`),
            `"slurm"` or `"ray"` (datatrove's Slurm / Ray executors; `executor_options` go to them).
        features: the output rows' `datasets.Features` (default: the stage's `features` attribute if it has one,
            else the canonical row's `mmreason.data.schema.FEATURES`).

    Returns:
        A [`JobSummary`] (also written to `summary.json`).

    Raises:
        JobMismatchError: `out_dir` holds a run with other settings or input rows (and `allow_changed` is off).
    """
    options = dict(
        batch_size=batch_size, shard_rows=shard_rows, shard_bytes=shard_bytes, resume=resume,
        allow_changed=allow_changed, features=features, commit_seconds=commit_seconds, progress=progress,
    )  # fmt: skip
    from .executors import check_layout, run_sharded  # datatrove itself is imported for workers > 1 only

    if workers == 1 and executor == "local":
        check_layout(Path(out_dir), 1, discard=not resume)
        return run_shard(stage_for_rank(stage, 0, 1), read_rows(rows), out_dir, **options)

    return run_sharded(stage, rows, out_dir, workers=workers, executor=executor, executor_options=executor_options,
                       **options)  # fmt: skip


def stage_for_rank(stage: Stage | StageFactory, rank: int, world_size: int) -> Stage:
    """`stage` itself, or what the factory `stage` builds for `rank` of `world_size`."""
    if isinstance(stage, Stage) and not isinstance(stage, type):
        return stage
    if callable(stage):
        built = stage(rank, world_size)
        if isinstance(built, Stage):
            return built
        raise TypeError(f"the stage factory returned a {type(built).__name__}, not a Stage")
    raise TypeError(f"expected a Stage (name, settings(), process_batch()) or a factory, got {type(stage).__name__}")


def read_rows(rows: Iterable[dict[str, Any]] | Callable[[], Iterable[dict[str, Any]]]) -> Iterable[dict[str, Any]]:
    """The input rows: `rows` itself, or what the callable `rows` returns."""
    return rows() if callable(rows) and not hasattr(rows, "__iter__") else rows


def run_shard(
    stage: Stage,
    rows: Iterable[dict[str, Any]],
    out_dir: str | Path,
    *,
    batch_size: int = 32,
    shard_rows: int = 10_000,
    shard_bytes: int = 256 << 20,
    resume: bool = True,
    allow_changed: bool = False,
    features: Any = None,
    commit_seconds: float = 60.0,
    progress: bool = True,
    shard: tuple[int, int] = (0, 1),
) -> JobSummary:
    """[`run_job`] in this process over `rows` (already this rank's rows when `shard = (rank, world_size)`)."""
    return _Job(stage, Path(out_dir), features, allow_changed, shard).run(
        rows, batch_size=batch_size, shard_rows=shard_rows, shard_bytes=shard_bytes, resume=resume,
        commit_seconds=commit_seconds, progress=progress,
    )  # fmt: skip


class _NoProgress:
    """The progress bar of a run without one."""

    def update(self, n: int = 1) -> None:
        """Nothing to show."""

    def set_postfix(self, **kwargs: Any) -> None:
        """Nothing to show."""

    def close(self) -> None:
        """Nothing to close."""


class _Job:
    """One run of one job folder: the state, the fresh-row digest and the commit step."""

    def __init__(self, stage: Stage, out: Path, features: Any, allow_changed: bool, shard: tuple[int, int]):
        from mmreason.data.schema import FEATURES

        self.stage, self.out, self.allow_changed = stage, out, allow_changed
        self.features = features if features is not None else getattr(stage, "features", None) or FEATURES
        self.fingerprint = {
            "stage": stage.name,
            "settings": stage.settings(),
            "features": self.features.to_dict(),
            "shard": {"rank": shard[0], "world_size": shard[1]},
        }
        self.state_path, self.failures_path = out / STATE_FILE, out / FAILURES_FILE
        self.accepted: list[str] = []

    # -- start: checks and clean-up ------------------------------------------------------------------------------

    def _open(self, rows: Iterable[dict[str, Any]], resume: bool) -> JobState:
        (self.out / DATA_DIR).mkdir(parents=True, exist_ok=True)
        if not resume:
            for path in (*(self.out / DATA_DIR).glob("train-*.parquet*"), self.state_path, self.failures_path):
                path.unlink(missing_ok=True)
        state = JobState.load(self.state_path)
        length = len(rows) if hasattr(rows, "__len__") else None  # type: ignore[arg-type]
        if self.state_path.exists():
            changes = settings_changes(state.fingerprint, self.fingerprint)
            if length is not None and state.input_rows is not None and length != state.input_rows:
                changes.append(f"input rows: {state.input_rows} -> {length}")
            self._changed(state, changes, "settings or input")
        state.fingerprint = self.fingerprint
        state.input_rows = length if length is not None else state.input_rows
        for stale in (self.out / DATA_DIR).glob("train-*.parquet*"):
            if stale.name.endswith(".tmp") or int(stale.name[6:11]) >= state.shards:
                stale.unlink()
        del state.shard_sha256[state.shards :]
        with open(self.failures_path, "ab") as handle:
            handle.truncate(state.failures_bytes)
        state.runs += 1
        return state

    def _changed(self, state: JobState, changes: list[str], what: str) -> None:
        """Refuse `changes` (raise), or record them when `allow_changed`."""
        if not changes:
            return
        if not self.allow_changed:
            finished = state.input_rows == state.position and not state.pending
            raise JobMismatchError(
                f"{self.out} holds a {'finished' if finished else 'unfinished'} run of stage "
                f"{(state.fingerprint or {}).get('stage')!r} with other {what}: {'; '.join(changes)}. Rerun with "
                f"allow_changed=True (--allow_changed) to go on, keeping its {state.output_rows} committed row(s), "
                "or with resume=False (--overwrite) to start afresh, or choose another out_dir."
            )
        logger.warning("%s: going on with changed %s: %s", self.out, what, "; ".join(changes))
        self.accepted += changes

    # -- the input: committed chunks re-read and checked, pending rows retried, then fresh rows ------------------

    def _work(self, rows: Iterable[dict[str, Any]], state: JobState) -> Iterator[tuple[int, dict[str, Any]]]:
        """`(index, row)` to process: pending rows of each committed chunk once its digest matched, then fresh
        rows (added to the fresh digest as they are handed out)."""
        chunk, start, digest, held = 0, 0, RowDigest(), []
        index = -1
        for index, row in enumerate(rows):
            if index < state.position:
                digest.update(row)
                if index in self.pending:
                    held.append((index, row))
                end, expected = state.chunks[chunk]
                if index + 1 == end:
                    if digest.hexdigest() != expected:
                        self._changed(
                            state, [f"input rows {start}..{end - 1} differ from the committed ones"], "input"
                        )
                        state.chunks[chunk][1] = digest.hexdigest()
                    yield from held
                    chunk, start, digest, held = chunk + 1, end, RowDigest(), []
                continue
            if state.input_rows is not None and index >= state.input_rows and self.read_to_end:
                self._changed(state, [f"input rows: {state.input_rows} -> more"], "input")
                self.read_to_end = False
            self.fresh_digest.update(row)
            self.fresh += 1
            yield index, row
        if index + 1 < state.position:
            self._changed(state, [f"input rows: {state.position} committed, {index + 1} now"], "input")
            state.position = self.position = index + 1
            del state.chunks[chunk:]
            self.pending = {i for i in self.pending if i <= index}
            yield from held
        state.input_rows = index + 1
        self.read_to_end = True

    # -- the run ------------------------------------------------------------------------------------------------

    def run(self, rows: Iterable[dict[str, Any]], *, batch_size: int, shard_rows: int, shard_bytes: int,
            resume: bool, commit_seconds: float, progress: bool) -> JobSummary:  # fmt: skip
        from mmreason.data.prepare import ShardWriter

        started = time.monotonic()
        state = self._open(rows, resume)
        self.read_to_end = state.input_rows is not None and state.position >= state.input_rows
        self.pending, self.fresh, self.fresh_digest = set(state.pending), 0, RowDigest()
        self.position, self.processed, self.failed, self.reasons = state.position, 0, 0, Counter()
        writer = ShardWriter(self.out / DATA_DIR, shard_rows, shard_bytes, self.features)
        # No tqdm(disable=True) without progress: it takes tqdm's process-shared lock, which a kill may leave held.
        bar = _NoProgress()
        if progress:
            initial = state.position - len(self.pending)
            bar = tqdm(total=state.input_rows, initial=initial, unit="row", desc=self.stage.name, dynamic_ncols=True)
        with open(self.failures_path, "a", encoding="utf-8") as failures:
            self._commit(state, writer, failures)  # the run count, fingerprint and cleaned-up files first
            last_commit, work = time.monotonic(), self._work(rows, state)
            while batch := list(islice(work, batch_size)):
                full = self._process(batch, state, writer, failures, bar)
                if full or time.monotonic() - last_commit >= commit_seconds:
                    self._commit(state, writer, failures)
                    last_commit = time.monotonic()
            self._commit(state, writer, failures, empty_shard=state.shards == 0)  # an empty job stays loadable
        bar.close()
        return self._summary(state, time.monotonic() - started)

    def _process(self, batch: list[tuple[int, dict[str, Any]]], state: JobState, writer: Any, failures: Any,
                 bar: Any) -> bool:  # fmt: skip
        """Send one batch to the stage and buffer its outputs and failures; whether the shard is full."""
        results = self.stage.process_batch([row for _, row in batch])
        if len(results) != len(batch):
            raise ValueError(f"stage {self.stage.name!r} returned {len(results)} results for {len(batch)} rows")
        full = False
        for (index, row), result in zip(batch, results):
            self.position = max(self.position, index + 1)
            self.processed += 1
            if isinstance(result, StageFailure):
                self.failed += 1
                self.reasons[result.reason] += 1
                failures.write(json.dumps(self._failure(index, row, result, state.runs)) + "\n")
                if result.retryable:
                    self.pending.add(index)
                    continue
                state.permanent += 1
            else:
                for output in result:
                    full = writer.add(self._encode(output)) or full
            self.pending.discard(index)
            bar.update(1)
        bar.set_postfix(failed=self.failed, pending=len(self.pending), refresh=False)
        return full

    def _commit(self, state: JobState, writer: Any, failures: Any, empty_shard: bool = False) -> None:
        """Write the buffered rows as the next shard, then replace the state: the one step that makes work done."""
        if writer.rows or empty_shard:
            shard = writer.flush(state.shards)
            state.shards += 1
            state.shard_sha256.append(shard.sha256)
            state.output_rows += shard.rows
        failures.flush()
        state.failures_bytes = failures.tell()
        if self.fresh:
            state.chunks.append([self.position, self.fresh_digest.hexdigest()])
            self.fresh, self.fresh_digest = 0, RowDigest()
        state.position, state.pending = self.position, sorted(self.pending)
        if self.accepted:
            state.accepted_changes.append({"run": state.runs, "changes": self.accepted})
            self.accepted = []
        state.save(self.state_path)

    def _failure(self, index: int, row: dict[str, Any], failure: StageFailure, run: int) -> dict[str, Any]:
        """The `failures.jsonl` record of one failed attempt."""
        record = {"index": index, "id": row.get("id"), "reason": failure.reason, "retryable": failure.retryable}
        record["run"] = run
        if self.fingerprint["shard"]["world_size"] > 1:
            record["rank"] = self.fingerprint["shard"]["rank"]
        return record

    def _encode(self, row: dict[str, Any]) -> dict[str, Any]:
        """An output row in Arrow form (images as bytes), after checking its columns are the features'."""
        if not isinstance(row, dict) or not isinstance(row.get("id"), str):
            raise ValueError(f"stage {self.stage.name!r} returned an output row without a string 'id': {row!r:.200}")
        if missing := [name for name in self.features if name not in row]:
            raise ValueError(f"stage {self.stage.name!r}: output row {row['id']!r} lacks columns {missing}")
        if extra := [name for name in row if name not in self.features]:
            raise ValueError(f"stage {self.stage.name!r}: output row {row['id']!r} has columns {extra} that the "
                             f"output features do not (pass features= or set the stage's `features`)")  # fmt: skip
        return self.features.encode_example(row)

    def _summary(self, state: JobState, seconds: float) -> JobSummary:
        done = state.input_rows is not None and state.position >= state.input_rows and not state.pending
        summary = JobSummary(
            stage=self.stage.name,
            out_dir=str(self.out),
            input_rows=state.input_rows if state.input_rows is not None else state.position,
            done_rows=state.position - len(state.pending),
            output_rows=state.output_rows,
            shards=state.shards,
            pending_retries=len(state.pending),
            permanent_failures=state.permanent,
            processed_this_run=self.processed,
            failed_this_run=self.failed,
            failure_reasons=dict(self.reasons.most_common()),
            seconds=round(seconds, 3),
            rows_per_second=round(self.processed / seconds, 3) if seconds > 0 else 0.0,
            done=done,
        )
        write_json_atomic(self.out / SUMMARY_FILE, summary.to_dict())
        return summary


__all__ = [
    "JobMismatchError", "StageFactory", "run_job", "run_shard",
]  # fmt: skip
