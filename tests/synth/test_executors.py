"""Scale-out on datatrove: a 2-worker job (datatrove's `LocalPipelineExecutor`, worker processes) writes the same
rows as the single-process run; each rank reads its share (checked against `datasets.Dataset.shard`), may get its
own server, and a job keeps its worker count."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import datasets
import pytest

from mmreason.synth import JobMismatchError, run_job
from mmreason.synth.executors import rank_dir, rows_for_rank, server_for_rank
from mmreason.synth.state import JobState
from tests.synth.runner_stages import ToyStage, make_input
from tests.synth.test_runner import by_id, committed_rows, expected_rows

SERVERS = ["http://node-a:8000/v1", "http://node-b:8000/v1"]


@dataclass
class OnServer:
    """Builds each rank's stage, talking to its own server (recorded in the stage's settings as its prompt)."""

    always_retry: int = 0

    def __call__(self, rank: int, world_size: int) -> ToyStage:
        return ToyStage(prompt=f"toy@1 via {server_for_rank(SERVERS, rank)}", always_retry=self.always_retry)


def test_two_workers_write_the_single_process_rows(tmp_path: Path) -> None:
    inputs, options = make_input(30), {"batch_size": 4, "shard_rows": 3, "progress": False}
    single = run_job(ToyStage(always_retry=11), inputs, tmp_path / "one", **options)
    sharded = run_job(OnServer(always_retry=11), inputs, tmp_path / "two", workers=2, **options)
    assert by_id(committed_rows(tmp_path / "two")) == by_id(committed_rows(tmp_path / "one"))
    assert by_id(committed_rows(tmp_path / "two")) == expected_rows(inputs, skip={0, 11, 22})
    for name in ("input_rows", "done_rows", "output_rows", "pending_retries", "processed_this_run"):
        assert getattr(sharded, name) == getattr(single, name), name
    assert not sharded.done and sharded.failure_reasons == {"timeout after 30 s": 3}
    first, second = (JobState.load(rank_dir(tmp_path / "two", rank, 2) / "state.json") for rank in (0, 1))
    assert (first.position, first.pending, second.position, second.pending) == (15, [0, 11], 15, [7])
    prompts = [state.fingerprint["settings"]["prompt"] for state in (first, second)]
    assert prompts == ["toy@1 via http://node-a:8000/v1", "toy@1 via http://node-b:8000/v1"]

    rows = functools.partial(make_input, 30)  # what a worker on another machine would call to read its rows
    again = run_job(OnServer(), rows, tmp_path / "two", workers=2, **options)
    assert again.done and again.processed_this_run == 3, "the second run retries the three failed rows only"
    assert by_id(committed_rows(tmp_path / "two")) == expected_rows(inputs)

    with pytest.raises(JobMismatchError, match="holds a single-process job; this run has 2 worker"):
        run_job(ToyStage(), inputs, tmp_path / "one", workers=2, **options)
    with pytest.raises(JobMismatchError, match=r"holds 2 rank folder\(s\) like rank-0000\d-of-00002; this run has 3"):
        run_job(OnServer(), inputs, tmp_path / "two", workers=3, **options)
    with pytest.raises(JobMismatchError, match="this run has 1 worker"):
        run_job(ToyStage(), inputs, tmp_path / "two", **options)
    with pytest.raises(TypeError, match="rows it can read in each worker"):
        run_job(ToyStage(), iter(inputs), tmp_path / "three", workers=2, **options)


def test_servers_are_taken_in_turn() -> None:
    assert [server_for_rank(SERVERS, rank) for rank in range(5)] == [*SERVERS, *SERVERS, SERVERS[0]]
    with pytest.raises(ValueError, match="no server"):
        server_for_rank([], 0)


@pytest.mark.parametrize("count", [1, 5, 12])
@pytest.mark.parametrize("world_size", [1, 2, 3, 5])
def test_contiguous_shares_are_datasets_shards(count: int, world_size: int) -> None:
    rows = [{"id": f"q{i}"} for i in range(count)]
    dataset = datasets.Dataset.from_list(rows, features=datasets.Features({"id": datasets.Value("string")}))
    for rank in range(world_size):
        if count >= world_size:
            reference = dataset.shard(num_shards=world_size, index=rank, contiguous=True)["id"]
        else:  # datasets refuses more shards than rows: one row each for the first ranks, by hand
            reference = [f"q{rank}"] if rank < count else []
        assert [row["id"] for row in rows_for_rank(rows, rank, world_size)] == reference
        assert list(rows_for_rank(dataset, rank, world_size)["id"]) == reference


def test_plain_iterables_are_dealt_round_robin() -> None:
    shares = [[row["id"] for row in rows_for_rank(iter(make_input(7)), rank, 3)] for rank in range(3)]
    assert shares == [["q0000", "q0003", "q0006"], ["q0001", "q0004"], ["q0002", "q0005"]]
    with pytest.raises(ValueError, match="rank 3 is not in"):
        rows_for_rank([], 3, 3)


def test_slurm_and_ray_get_the_same_rank_task(tmp_path: Path) -> None:
    """The job's step and options reach datatrove's Slurm and Ray executors as they reach the local one (built, not
    run: no cluster here)."""
    from datatrove.executor import RayPipelineExecutor, SlurmPipelineExecutor

    from mmreason.synth.executors import RankTask, datatrove_executor

    task = RankTask(ToyStage(), make_input(4), str(tmp_path), {"progress": False})
    kwargs = {"pipeline": [task], "tasks": 8, "logging_dir": str(tmp_path / "logs"), "skip_completed": False}
    slurm = datatrove_executor("slurm", 8, {**kwargs, "partition": "cpu", "time": "01:00:00"})
    ray = datatrove_executor("ray", 8, kwargs)
    assert isinstance(slurm, SlurmPipelineExecutor) and isinstance(ray, RayPipelineExecutor)
    for executor in (slurm, ray):
        assert executor.world_size == 8 and executor.pipeline == [task] and not executor.skip_completed
    assert slurm.partition == "cpu" and slurm.time == "01:00:00"
    task(None, rank=1, world_size=2)  # what each launched rank runs
    assert [row["id"] for row in committed_rows(rank_dir(tmp_path, 1, 2))] == ["q0002-0", "q0002-1"]
