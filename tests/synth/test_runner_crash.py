"""A job that dies between writing a shard (and its failure records) and replacing `state.json` — the one window
random kills rarely hit — loses and duplicates nothing: the next run deletes the orphan shard and cuts the
failures log back, whatever that run then does. Hypothesis draws the commit that dies."""

from __future__ import annotations

import contextlib
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmreason.synth import run_job
from mmreason.synth.outputs import read_failures
from mmreason.synth.state import JobState
from tests.synth.runner_stages import ToyStage, make_input
from tests.synth.test_runner import by_id, committed_rows, expected_rows

INPUTS = make_input(40)
OPTIONS = {"batch_size": 3, "shard_rows": 2, "progress": False}


class Died(Exception):
    """Stands in for the process dying."""


class AllDown(ToyStage):
    """The server is down: every row fails with a retryable error."""

    def process_batch(self, rows):
        from mmreason.synth import StageFailure

        return [StageFailure("connection refused") for _ in rows]


def run_dying_at(out: Path, save_call: int) -> None:
    """Run the job until its `save_call`-th `state.json` write, which it does not make."""
    calls = {"n": 0}
    save = JobState.save

    def dying_save(self: JobState, path: Path) -> None:
        calls["n"] += 1
        if calls["n"] == save_call:
            raise Died
        save(self, path)

    with mock.patch.object(JobState, "save", dying_save), contextlib.suppress(Died):
        run_job(ToyStage(never_retry=7), INPUTS, out, **OPTIONS)


def committed_matches_state(out: Path) -> None:
    """The shards hold the outputs of exactly the rows the state calls done, and each permanent failure is logged
    once."""
    state = JobState.load(out / "state.json")
    failed_for_good = {record["index"] for record in read_failures(out) if not record["retryable"]}
    done = set(range(state.position)) - set(state.pending) - failed_for_good
    assert by_id(committed_rows(out)) == expected_rows(INPUTS, skip=set(range(len(INPUTS))) - done)
    permanent = [record["index"] for record in read_failures(out) if not record["retryable"]]
    assert len(permanent) == len(set(permanent)) == state.permanent


@settings(max_examples=12, deadline=None)
@given(save_call=st.integers(min_value=1, max_value=24))
def test_dying_between_shard_and_state_loses_and_duplicates_nothing(
    tmp_path_factory: pytest.TempPathFactory, save_call: int
) -> None:
    out = tmp_path_factory.mktemp("job")
    run_dying_at(out, save_call)
    orphans = JobState.load(out / "state.json").shards
    assert len(list((out / "data").glob("train-*.parquet"))) >= orphans
    run_job(AllDown(), INPUTS, out, **OPTIONS)  # writes no shard: an orphan left behind would stay
    committed_matches_state(out)
    summary = run_job(ToyStage(never_retry=7), INPUTS, out, **OPTIONS)
    assert summary.done
    committed_matches_state(out)
    assert by_id(committed_rows(out)) == expected_rows(INPUTS, skip={0, 7, 14, 21, 28, 35})
