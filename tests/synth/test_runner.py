"""The synthesis job runner: every output row exactly once however often the job is killed, refused reruns of
changed jobs, failures recorded and retried.

References: the rows `ToyStage` makes for each input row, written out by hand in `runner_stages.expected_outputs`,
and an uninterrupted run of the same job.
"""

from __future__ import annotations

import io
import json
import multiprocessing
import random
import signal
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from PIL import Image

from mmreason.synth import JobMismatchError, run_job
from mmreason.synth.outputs import job_data_files, read_failures
from mmreason.synth.state import JobState
from tests.synth.runner_stages import ToyStage, expected_outputs, make_input


def _pixels(image: Any) -> tuple:
    if isinstance(image, dict):
        image = Image.open(io.BytesIO(image["bytes"]))
    return image.mode, image.size, image.tobytes()


def _comparable(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "images": [_pixels(image) for image in row["images"]]}


def committed_rows(out: Path) -> list[dict[str, Any]]:
    """Every output row in the job's shards (read with pyarrow, images decoded with PIL), in shard order."""
    return [_comparable(row) for path in job_data_files(out) for row in pq.read_table(path).to_pylist()]


def expected_rows(inputs: list[dict[str, Any]], skip: set[int] = frozenset()) -> list[dict[str, Any]]:
    rows = [out for i, row in enumerate(inputs) if i not in skip for out in expected_outputs(row)]
    return sorted((_comparable(row) for row in rows), key=lambda row: row["id"])


def by_id(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda row: row["id"])


def _run_child(out: str, inputs: list[dict[str, Any]]) -> None:
    run_job(ToyStage(sleep=0.001, always_retry=17, never_retry=13), inputs, out, batch_size=2, shard_rows=3,
            commit_seconds=0.05, progress=False)  # fmt: skip


def test_kill_9_twenty_times_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    """SIGKILL the job at twenty random points: once it has committed a random number of rows, plus a random
    0-20 ms (so kills land in batches, in commits, in the start-up checks); rerun after each."""
    inputs = make_input(100)
    _run_child(str(tmp_path / "warm-up"), inputs[:6])  # imports everything (PIL plugins too): a fork starts at once
    fork = multiprocessing.get_context("fork")

    def run_forked(out: Path, kill_at: int | None = None, extra: float = 0.0) -> bool:
        """Run the job in a child process, SIGKILLed `extra` seconds after it has committed `kill_at` input rows;
        whether it was still running."""
        child = fork.Process(target=_run_child, args=(str(out), inputs))
        child.start()
        if kill_at is None:
            child.join()
            return False
        deadline = time.monotonic() + 60
        while child.is_alive() and JobState.load(out / "state.json").position < kill_at:
            assert time.monotonic() < deadline
            time.sleep(0.001)
        time.sleep(extra)
        running = child.is_alive()
        child.kill()  # SIGKILL
        child.join()
        assert child.exitcode in (-signal.SIGKILL, 0)
        return running

    reference, killed, rng = tmp_path / "uninterrupted", tmp_path / "killed", random.Random(13)
    run_forked(reference)
    kill_points = sorted(rng.randint(1, 85) for _ in range(20))
    running_at_kill = sum(run_forked(killed, kill_at=point, extra=rng.uniform(0, 0.02)) for point in kill_points)
    assert running_at_kill >= 18, "the kills must land while the job runs"
    assert JobState.load(killed / "state.json").position < len(inputs)
    run_forked(killed)

    numbers = range(len(inputs))
    retried = {i for i in numbers if i % 17 == 0}
    permanent = {i for i in numbers if i % 13 == 0 and i % 17 != 0}
    expected = expected_rows(inputs, skip=retried | permanent)
    for out in (reference, killed):
        rows = committed_rows(out)
        assert len({row["id"] for row in rows}) == len(rows), "duplicated output rows"
        assert by_id(rows) == expected
        state = JobState.load(out / "state.json")
        assert state.pending == sorted(retried) and state.permanent == len(permanent)
        failures = read_failures(out)
        permanent_ids = [record["id"] for record in failures if not record["retryable"]]
        assert sorted(permanent_ids) == [f"q{i:04d}" for i in sorted(permanent)], "permanent failures: once each"
        assert {record["id"] for record in failures if record["retryable"]} == {f"q{i:04d}" for i in retried}
    assert committed_rows(killed) != [] and by_id(committed_rows(killed)) == by_id(committed_rows(reference))


def test_rerun_of_a_finished_job_does_no_work(tmp_path: Path) -> None:
    inputs = make_input(12)
    first = run_job(ToyStage(), inputs, tmp_path, batch_size=5, shard_rows=4, progress=False)
    assert first.done and first.processed_this_run == 12 and first.output_rows == sum(i % 3 for i in range(12))
    stage = ToyStage()
    again = run_job(stage, inputs, tmp_path, batch_size=5, shard_rows=4, progress=False)
    assert again.done and again.processed_this_run == 0 and stage.seen == []
    assert by_id(committed_rows(tmp_path)) == expected_rows(inputs)
    assert json.loads((tmp_path / "summary.json").read_text())["processed_this_run"] == 0


def test_failures_are_recorded_and_retried_by_the_next_run(tmp_path: Path) -> None:
    inputs = make_input(20)
    flaky = ("q0002", "q0005", "q0019")
    first = run_job(ToyStage(flaky=flaky, never_retry=7), inputs, tmp_path, batch_size=3, shard_rows=2,
                    progress=False)  # fmt: skip
    assert not first.done and first.pending_retries == 3 and first.permanent_failures == 3  # q0000, q0007, q0014
    assert first.failure_reasons == {"server error 503: overloaded": 3, "no 'Final answer:' in the response": 3}
    records = read_failures(tmp_path)
    assert [(r["id"], r["retryable"], r["run"]) for r in records] == [
        ("q0000", False, 1), ("q0002", True, 1), ("q0005", True, 1), ("q0007", False, 1), ("q0014", False, 1),
        ("q0019", True, 1),
    ]  # fmt: skip
    assert all(r["index"] == int(r["id"][1:]) for r in records)

    stage = ToyStage(never_retry=7)
    second = run_job(stage, inputs, tmp_path, batch_size=3, shard_rows=2, progress=False)
    assert stage.seen == list(flaky), "only the retryable failures are retried"
    assert second.done and second.pending_retries == 0 and second.processed_this_run == 3
    assert by_id(committed_rows(tmp_path)) == expected_rows(inputs, skip={0, 7, 14})
    assert len(read_failures(tmp_path)) == 6, "the retries succeeded: no new failure records"


def test_changed_settings_are_refused_unless_allowed(tmp_path: Path) -> None:
    inputs = make_input(9)
    run_job(ToyStage(), inputs[:6], tmp_path / "job", batch_size=2, shard_rows=2, progress=False)
    committed = committed_rows(tmp_path / "job")
    with pytest.raises(JobMismatchError, match=r"settings\.prompt: 'toy@1' -> 'toy@2'"):
        run_job(ToyStage(prompt="toy@2"), inputs[:6], tmp_path / "job", progress=False)
    with pytest.raises(JobMismatchError, match=r"input rows: 6 -> 9"):
        run_job(ToyStage(), inputs, tmp_path / "job", progress=False)
    assert committed_rows(tmp_path / "job") == committed, "a refused rerun leaves the job as it was"

    summary = run_job(ToyStage(prompt="toy@2"), inputs, tmp_path / "job", allow_changed=True, progress=False)
    assert (
        summary.done
        and summary.processed_this_run == 3
        and by_id(committed_rows(tmp_path / "job")) == (expected_rows(inputs))
    )
    state = JobState.load(tmp_path / "job" / "state.json")
    assert state.fingerprint["settings"]["prompt"] == "toy@2"
    assert state.accepted_changes == [
        {"run": 2, "changes": ["settings.prompt: 'toy@1' -> 'toy@2'", "input rows: 6 -> 9"]}
    ]
    fresh = run_job(ToyStage(prompt="toy@3"), inputs, tmp_path / "job", resume=False, progress=False)
    assert fresh.processed_this_run == 9 and JobState.load(tmp_path / "job" / "state.json").runs == 1


def test_changed_input_content_is_refused(tmp_path: Path) -> None:
    inputs = make_input(10)
    run_job(ToyStage(always_retry=9), inputs, tmp_path, batch_size=2, shard_rows=2, progress=False)
    edited = [dict(row) for row in inputs]
    edited[3]["image"] = Image.new("RGB", (4, 3), (3, 7, 201))  # one pixel value of one committed row
    stage = ToyStage()
    with pytest.raises(JobMismatchError, match=r"input rows \d+\.\.\d+ differ from the committed ones"):
        run_job(stage, edited, tmp_path, batch_size=2, progress=False)
    assert "q0009" not in stage.seen, "the pending row after the changed chunk was not sent to the stage"


def test_a_longer_generator_input_is_refused(tmp_path: Path) -> None:
    inputs = make_input(8)
    run_job(ToyStage(), iter(inputs[:5]), tmp_path, progress=False)
    assert JobState.load(tmp_path / "state.json").input_rows == 5
    with pytest.raises(JobMismatchError, match="input rows: 5 -> more"):
        run_job(ToyStage(), iter(inputs), tmp_path, progress=False)
    assert run_job(ToyStage(), iter(inputs[:5]), tmp_path, progress=False).processed_this_run == 0


def test_output_rows_must_match_the_features(tmp_path: Path) -> None:
    class Broken(ToyStage):
        def process_batch(self, rows):
            return [[{"id": row["id"], "text": "no canonical columns"}] for row in rows]

    with pytest.raises(ValueError, match=r"lacks columns \['source', 'category'"):
        run_job(Broken(), make_input(2), tmp_path, progress=False)


def test_progress_shows_rows_per_second_and_failures(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    run_job(ToyStage(never_retry=2), make_input(6), tmp_path, batch_size=2, progress=True)
    err = capsys.readouterr().err
    assert "row/s" in err and "failed=3" in err and "6/6" in err


def test_a_job_without_outputs_leaves_one_empty_loadable_shard(tmp_path: Path) -> None:
    from mmreason.data.schema import FEATURES

    inputs = [row for row in make_input(7) if int(row["id"][1:]) % 3 == 0]  # ToyStage makes no rows for these
    summary = run_job(ToyStage(), inputs, tmp_path, progress=False)
    assert summary.done and summary.output_rows == 0 and summary.shards == 1
    (shard,) = job_data_files(tmp_path)
    table = pq.read_table(shard)
    assert table.num_rows == 0 and table.schema.equals(FEATURES.arrow_schema)
