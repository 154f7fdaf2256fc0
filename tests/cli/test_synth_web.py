"""`mmreason synth web` end to end as a subprocess against the loopback fixture site and stand-in model: killed
with SIGKILL twice (inside the extraction job, then inside the refinement job), resumed, and compared with an
uninterrupted run — nothing lost or duplicated. Plus the command's one-line errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from mmreason.synth.outputs import job_data_files
from tests.synth.pipeline_stand_in import ScriptedServer
from tests.synth.web.model import reply
from tests.synth.web.site import HOSTILE, HOSTS, PAGES, FixtureSite

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def servers():
    site, model = FixtureSite(), ScriptedServer(reply, latency=0.05)
    yield site, model
    model.close()
    site.close()


def command(site, model, seeds: Path, out: Path) -> list[str]:
    resolve = [f"{host}=127.0.0.1" for host in HOSTS]
    return [sys.executable, "-m", "mmreason.cli", "synth", "web", "run", "--seeds", str(seeds), "--out", str(out),
            "--base_url", model.url, "--model", "served", "--allow_network", "127.0.0.1", "--resolve", *resolve,
            "--skip_top_domains", "0", "--timeout", "1", "--max_bytes", str(1 << 20), "--retry_rounds", "0",
            "--model_batch_size", "1", "--concurrency", "4"]  # fmt: skip


def rows(out: Path) -> dict[str, dict]:
    found = [row for path in job_data_files(out / "rows") for row in pq.read_table(path).to_pylist()]
    assert len({row["id"] for row in found}) == len(found), "duplicated rows"
    return {row["id"]: row for row in found}


def run_until(cmd: list[str], ready, timeout: float = 120) -> None:
    """Start `cmd`; SIGKILL it as soon as `ready()` holds (or let it finish)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + timeout
    while process.poll() is None and time.time() < deadline:
        if ready():
            os.kill(process.pid, signal.SIGKILL)
            break
        time.sleep(0.01)
    process.wait(30)


def test_killed_twice_and_resumed_equals_an_uninterrupted_run(servers, tmp_path, capsys):
    site, model = servers
    seeds = tmp_path / "urls.txt"
    seeds.write_text("\n".join([site.url(h, p) for h, p in PAGES] + [site.url("math.test", p) for p in HOSTILE]))
    reference, resumed = tmp_path / "reference", tmp_path / "resumed"
    # the uninterrupted reference runs in process (the same command line, without a second interpreter start-up)
    from mmreason.cli.synth_web import main as web_main

    web_main(command(site, model, seeds, reference)[5:])
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["rows"]["output_rows"] == 6

    def frozen(stage: str) -> bool:
        path = resumed / "pipeline.json"
        return path.exists() and stage in json.loads(path.read_text() or "{}").get("frozen", {})

    def extracting() -> bool:  # inside the qa job: its state exists, it is not frozen yet
        return frozen("pages") and (resumed / "qa" / "state.json").exists() and not frozen("qa")

    run_until(command(site, model, seeds, resumed), extracting)
    assert not frozen("qa")
    run_until(command(site, model, seeds, resumed), lambda: frozen("qa") and (resumed / "rows").exists())
    assert not frozen("rows")
    run_until(command(site, model, seeds, resumed), lambda: False)
    assert frozen("rows")
    expected, got = rows(reference), rows(resumed)
    assert sorted(got) == sorted(expected) and len(got) == 6
    for rid, row in expected.items():
        assert got[rid] == row, rid  # messages, image bytes, verdict columns
    assert (resumed / "report" / "report.md").read_text() == (reference / "report" / "report.md").read_text()


def test_usage_errors_are_one_line(tmp_path):
    def fails(*argv: str) -> str:
        result = subprocess.run([sys.executable, "-m", "mmreason.cli", "synth", "web", *argv], cwd=ROOT,
                                capture_output=True, text=True, timeout=60)  # fmt: skip
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
        return result.stderr

    assert "did you mean fetch" in fails("fech")
    assert "--out is required" in fails("fetch", "--seeds", "x")
    assert "--seeds is required" in fails("fetch", "--out", str(tmp_path / "o"))
    (tmp_path / "u.txt").write_text("https://a.org/\n")
    assert "`extract` needs --model" in fails(
        "extract", "--out", str(tmp_path / "o"), "--seeds", str(tmp_path / "u.txt")
    )
    assert "want HOST=ADDRESS" in fails("fetch", "--out", str(tmp_path / "o"), "--seeds", str(tmp_path / "u.txt"),
                                        "--resolve", "nohost")  # fmt: skip
    assert "not a mining folder" in fails("report", str(tmp_path))
