"""Scale-out: one job over many workers or machines with datatrove's executors (`pip install mmreason[synth]`).

A job of `N` workers is `N` ranks. Rank `r` takes its share of the input rows (a contiguous block of a list or
`datasets.Dataset`: rows `[r·n/N, (r+1)·n/N)`, like `Dataset.shard(contiguous=True)`; every `N`-th row of a
plain iterable) and runs the resumable single-process runner ([`mmreason.synth.runner.run_shard`]) into its own
folder, `out_dir/rank-0000r-of-0000N/`. datatrove launches the ranks: `LocalPipelineExecutor` (processes on this
machine), `SlurmPipelineExecutor` (a Slurm job array), `RayPipelineExecutor` (a Ray cluster). Its own completion
markers are not used (`skip_completed=False`): a finished rank reruns in a moment (it re-reads its input to check
it, then has nothing to do), and a rank with rows waiting for a retry retries them.

Since every output row's `id` comes from its input row's, the union of the ranks' rows is the single-process
job's rows, whatever `N`. A job keeps its `N`: rerunning it with another worker count is refused.

Several servers: give each rank its own with a stage factory,

    urls = ["http://node1:8000/v1", "http://node2:8000/v1"]
    run_job(lambda rank, world: MyStage(OpenAIBackend(server_for_rank(urls, rank), ...)), rows, out,
            workers=8, executor="slurm", executor_options={"partition": "cpu", "time": "12:00:00"})
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from .runner import JobMismatchError, StageFactory, read_rows, run_shard, stage_for_rank
from .stage import JobSummary, Stage
from .state import DATA_DIR, FAILURES_FILE, STATE_FILE, SUMMARY_FILE

EXECUTORS = ("local", "slurm", "ray")
LOGS_DIR = "executor_logs"


def rank_dir(out_dir: str | Path, rank: int, world_size: int) -> Path:
    """The folder of rank `rank` of a job sharded over `world_size` workers."""
    return Path(out_dir) / f"rank-{rank:05d}-of-{world_size:05d}"


def server_for_rank(base_urls: list[str], rank: int) -> str:
    """The server rank `rank` talks to: the base URLs taken in turn (rank `r` → `base_urls[r % len(base_urls)]`)."""
    if not base_urls:
        raise ValueError("no server base URLs given")
    return base_urls[rank % len(base_urls)]


def rows_for_rank(rows: Iterable[dict[str, Any]], rank: int, world_size: int) -> Iterable[dict[str, Any]]:
    """Rank `rank`'s share of `rows`: a contiguous block of a sized sequence or `datasets.Dataset`, else every
    `world_size`-th row from the `rank`-th."""
    if not 0 <= rank < world_size:
        raise ValueError(f"rank {rank} is not in [0, {world_size})")
    if hasattr(rows, "__len__") and hasattr(rows, "__getitem__"):
        total = len(rows)  # type: ignore[arg-type]
        size, extra = divmod(total, world_size)
        start = rank * size + min(rank, extra)
        end = start + size + (rank < extra)
        if hasattr(rows, "select"):  # a datasets.Dataset (whose select refuses an empty range past its end)
            return rows.select(range(start, end) if end > start else [])
        return rows[start:end]  # type: ignore[index]
    return islice(rows, rank, None, world_size)


@dataclass
class RankTask:
    """A datatrove pipeline step running one rank of a job (picklable: it travels to the workers)."""

    stage: Stage | StageFactory
    rows: Any
    out_dir: str
    options: dict[str, Any] = field(default_factory=dict)

    def __call__(self, data: Any = None, rank: int = 0, world_size: int = 1) -> None:
        """Run rank `rank` of `world_size` (datatrove's step signature; `data` is unused)."""
        rows = rows_for_rank(read_rows(self.rows), rank, world_size)
        stage = stage_for_rank(self.stage, rank, world_size)
        run_shard(stage, rows, rank_dir(self.out_dir, rank, world_size), shard=(rank, world_size), **self.options)

    def __repr__(self) -> str:  # what datatrove logs as the pipeline
        return f"RankTask(out_dir={self.out_dir!r})"


def run_sharded(
    stage: Stage | StageFactory,
    rows: Any,
    out_dir: str | Path,
    *,
    workers: int,
    executor: str = "local",
    executor_options: dict[str, Any] | None = None,
    **options: Any,
) -> JobSummary:
    """Run a job as `workers` ranks on datatrove's `executor` (`"local"`, `"slurm"`, `"ray"`); `options` are
    [`run_shard`]'s. Returns the merged summary of the ranks (for Slurm, as it stands when the array is queued)."""
    if executor not in EXECUTORS:
        raise ValueError(f"executor {executor!r}: expected one of {EXECUTORS}")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if not hasattr(rows, "__len__") and not callable(rows):
        raise TypeError(
            "a job with several workers needs rows it can read in each worker: a list, a datasets.Dataset or a "
            "zero-argument callable returning the rows"
        )
    out = Path(out_dir)
    check_layout(out, workers, discard=not options.get("resume", True))
    task = RankTask(stage, rows, str(out), {**options, "progress": options.get("progress", True)})
    kwargs = {"pipeline": [task], "tasks": workers, "logging_dir": str(out / LOGS_DIR), "skip_completed": False}
    kwargs.update(executor_options or {})
    datatrove_executor(executor, workers, kwargs).run()
    return job_summary(out)


def datatrove_executor(name: str, workers: int, kwargs: dict[str, Any]) -> Any:
    """datatrove's executor `name` (`"local"`: `LocalPipelineExecutor` with `workers` processes, `"slurm"`,
    `"ray"`) built with `kwargs` (`pipeline`, `tasks`, `logging_dir`, ... and the user's `executor_options`)."""
    try:
        from datatrove.executor import LocalPipelineExecutor, RayPipelineExecutor, SlurmPipelineExecutor
    except ImportError as error:
        raise ImportError("running a job on several workers needs datatrove: pip install 'mmreason[synth]'") from error
    if name == "local":
        return LocalPipelineExecutor(**{"workers": workers, **kwargs})
    if name == "slurm":
        return SlurmPipelineExecutor(**kwargs)
    return RayPipelineExecutor(**kwargs)


def check_layout(out: Path, workers: int, discard: bool) -> None:
    """Refuse (or, when `discard`, remove) a job in `out` of another layout than `workers` workers': a single
    process's files for `workers > 1`, rank folders of another worker count (any, for `workers == 1`)."""
    own = f"of-{workers:05d}" if workers > 1 else None
    other = [path for path in out.glob("rank-*-of-*") if path.is_dir() and not (own and path.name.endswith(own))]
    single = workers > 1 and (out / STATE_FILE).exists()
    if not other and not single:
        return
    if not discard:
        found = f"{len(other)} rank folder(s) like {other[0].name}" if other else "a single-process job"
        raise JobMismatchError(
            f"{out} holds {found}; this run has {workers} worker(s). Rerun with the same number of workers, "
            "resume=False (--overwrite) to start afresh, or another out_dir."
        )
    for path in other:
        shutil.rmtree(path)
    if single:
        shutil.rmtree(out / DATA_DIR, ignore_errors=True)
        for name in (STATE_FILE, SUMMARY_FILE, FAILURES_FILE):
            (out / name).unlink(missing_ok=True)


def job_summary(out_dir: str | Path) -> JobSummary:
    """The summary of a job's last runs: one process, or every rank's added up (`done` when all are)."""
    out = Path(out_dir)
    paths = [out / SUMMARY_FILE] if (out / SUMMARY_FILE).exists() else sorted(out.glob(f"rank-*/{SUMMARY_FILE}"))
    parts = [JobSummary(**json.loads(path.read_text())) for path in paths]
    if not parts:
        return JobSummary(stage="", out_dir=str(out))
    total = JobSummary(stage=parts[0].stage, out_dir=str(out), done=all(part.done for part in parts))
    for name in ("input_rows", "done_rows", "output_rows", "shards", "pending_retries", "permanent_failures",
                 "processed_this_run", "failed_this_run"):  # fmt: skip
        setattr(total, name, sum(getattr(part, name) for part in parts))
    for part in parts:
        for reason, count in part.failure_reasons.items():
            total.failure_reasons[reason] = total.failure_reasons.get(reason, 0) + count
    total.seconds = max(part.seconds for part in parts)
    total.rows_per_second = round(total.processed_this_run / total.seconds, 3) if total.seconds else 0.0
    return total


__all__ = [
    "EXECUTORS",
    "RankTask",
    "check_layout",
    "datatrove_executor",
    "job_summary",
    "rank_dir",
    "rows_for_rank",
    "run_sharded",
    "server_for_rank",
]
