"""`mmreason demo`, the README's main job, as a user runs it."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from transformers import AutoModelForImageTextToText

from mmreason import MMReasonForConditionalGeneration

SAMPLE = Path(__file__).resolve().parents[2] / "mmreason" / "assets" / "sample"


@pytest.mark.slow
def test_demo_trains_saves_reloads_and_shows_question_expected_and_answer(demo_run):
    folder, result = demo_run
    out = folder / "mmreason-demo"
    log = result.stdout + result.stderr
    assert "30 SFT steps" in result.stdout
    first, last = result.stdout.split("sample rows ")[1].split("\n")[0].split(" -> ")
    assert float(last) < float(first)  # it learned something on the sample rows
    assert "{'loss'" not in log and "30/30" in result.stderr  # transformers' progress bar, no per-step loss dicts
    rows = [json.loads(line) for line in (SAMPLE / "rows.jsonl").read_text().splitlines()][:2]
    shown = result.stdout.split("\n[1] image")[1]
    for number, row in enumerate(rows, start=1):  # reference: the raw sample file, not the demo's own reading
        block = shown.split(f"[{number}] image")[-1] if number > 1 else shown
        assert str(SAMPLE / row["images"][0]) in block.splitlines()[0]
        question = next(part["text"] for part in row["messages"][0]["content"] if part["type"] == "text")
        expected = " ".join(row["messages"][1]["content"][0]["text"].split())
        assert f"    question {question}" in block and f"    expected {expected[:137]}" in block
        assert "    model    '" in block
    assert "[3] image" not in result.stdout
    assert "What this shows: the plumbing" in result.stdout and "mmreason quickstart" in result.stdout
    assert isinstance(AutoModelForImageTextToText.from_pretrained(out), MMReasonForConditionalGeneration)
    assert (out / "chat_template.jinja").exists() or "chat_template" in (out / "processor_config.json").read_text()


def test_cli_lists_commands():
    result = subprocess.run([sys.executable, "-m", "mmreason.cli", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "demo" in result.stdout
