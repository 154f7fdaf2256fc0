"""`mmreason synth` as users run it: a subprocess job against a loopback OpenAI stand-in (resumed by a rerun, its
output read back with `datasets`, its report written), one-line errors before any heavy import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import datasets
import pytest
from PIL import Image

from mmreason.cli.synth import main as synth_main
from mmreason.data.schema import row_features
from tests.synth.pipeline_stand_in import ScriptedServer, last_text


def _synth(*args, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "mmreason.cli", "synth", *map(str, args)], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=600)  # fmt: skip


def _input(path: Path) -> Path:
    def row(rid, question, answer):
        return {"id": rid, "source": "toyqa", "category": "single_image", "quality_group": "",
                "messages": [{"role": "user", "content": [{"type": "image", "text": None},
                                                          {"type": "text", "text": question}]},
                             {"role": "assistant", "content": [{"type": "text", "text": answer}]}],
                "images": [Image.new("RGB", (9, 9), (200, 10, 10))], "videos": []}  # fmt: skip

    rows = [row("q1", "Find x.", "3"), row("q2", "Find y.", "8")]
    datasets.Dataset.from_list(rows, features=row_features()).to_parquet(str(path))
    return path


def test_mmpr_pairs_job_resumes_and_reports(tmp_path: Path, capsys) -> None:
    script = {"Find x": ["a\nb\nFinal answer: 3", "a\nb\nFinal answer: 4"],
              "Find y": ["a\nb\nFinal answer: 1", "a\nb\nFinal answer: 2", "a\nb\nFinal answer: 8",
                         "a\nb\nFinal answer: 2"]}  # fmt: skip
    seen, lock = {}, threading.Lock()

    def answer(body):
        key = next(k for k in script if k in last_text(body))
        with lock:
            seen[key] = seen.get(key, 0) + 1
            return script[key][seen[key] - 1]

    server = ScriptedServer(answer, faults=["500"])
    try:
        command = ["mmpr-pairs", "--input", _input(tmp_path / "rows.parquet"), "--out", tmp_path / "job",
                   "--base_url", server.url, "--model", "served", "--num_samples", "2",
                   "--concurrency", "2"]  # fmt: skip
        first = _synth(*command, cwd=tmp_path)
        assert first.returncode == 0, first.stderr[-3000:]
        summary = json.loads(first.stdout.strip().splitlines()[-1])
        assert (summary["output_rows"], summary["pending_retries"]) == (1, 1)  # Find y: 1 and 2, both wrong
        synth_main([str(a) for a in command])  # the rerun in this process (a subprocess costs 20 s of imports)
        summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert summary["done"] and summary["processed_this_run"] == 1 and summary["output_rows"] == 2
    finally:
        server.close()
    pairs = datasets.load_dataset("parquet", data_files=str(tmp_path / "job" / "data" / "*.parquet"), split="train")
    assert sorted(zip(pairs["id"], pairs["answer_gt"])) == [("q1-c0", "3"), ("q2-c0", "8")]
    assert pairs[0]["images"][0].size == (9, 9) and pairs[0]["prompt"][0]["content"][0]["type"] == "image"
    report = (tmp_path / "job" / "report" / "report.md").read_text()
    assert "| correctness | 2 | 100.0% |" in report and "| all_wrong | 1 | 100.0% |" in report
    again = _synth("report", tmp_path / "job", cwd=tmp_path)
    assert again.returncode == 0 and again.stdout.strip().endswith("report.md")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["mmpr-pair"], "mmreason synth: error: unknown pipeline 'mmpr-pair' (did you mean mmpr-pairs?); choose from "
                        "mammoth-rewrite, mmpr-pairs, dropout-ntp, puma-pairs, web, report"),
        (["mmpr-pairs", "--out", "job", "--model", "m"], "mmreason synth mmpr-pairs: error: --input is required"),
        (["dropout-ntp", "--input", "missing.parquet", "--out", "j", "--model", "m", "--base_url", "http://x/v1"],
         "mmreason synth dropout-ntp: error: --input missing.parquet: no such file or folder"),
        (["mmpr-pairs", "--num_sample", "3"],
         "mmreason synth mmpr-pairs: error: unrecognized argument --num_sample (did you mean --num_samples?)"),
        (["report", "nowhere"], "mmreason synth report: error: nowhere: not a synthesis job folder (no state.json)"),
    ],
)  # fmt: skip
def test_one_line_errors(tmp_path: Path, args: list[str], message: str) -> None:
    result = _synth(*args, cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.strip() == message


def test_input_of_rows_without_a_single_turn_is_recorded_not_crashed(tmp_path: Path, capsys) -> None:
    rows = [{"id": "x1", "source": "s", "category": "text", "quality_group": "", "images": [], "videos": [],
             "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]}]  # fmt: skip
    datasets.Dataset.from_list(rows, features=row_features()).to_parquet(str(tmp_path / "rows.parquet"))
    server = ScriptedServer(lambda body: "unused")
    try:
        synth_main(["mammoth-rewrite", "--input", str(tmp_path / "rows.parquet"), "--out", str(tmp_path / "job"),
                    "--base_url", server.url, "--model", "served", "--report", "false"])  # fmt: skip
    finally:
        server.close()
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["permanent_failures"] == 1 and summary["done"] and server.requests == []
    failure = json.loads((tmp_path / "job" / "failures.jsonl").read_text())
    assert failure["reason"] == "not a single-turn row (want [system] user assistant)" and not failure["retryable"]
    assert not (tmp_path / "job" / "report").exists()
