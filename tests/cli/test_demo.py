"""`mmreason demo`, the README's main job, as a user runs it."""

import os
import subprocess
import sys

from transformers import AutoModelForImageTextToText

from mmreason import MMReasonForConditionalGeneration


def test_demo_trains_saves_reloads_and_generates(tmp_path):
    out = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "mmreason.cli", "demo", "--output_dir", str(out), "--max_steps", "30"],
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        cwd=tmp_path,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    log = result.stdout + result.stderr
    assert "30 SFT steps" in log and "generated:" in log
    first, last = log.split("loss ")[1].split(" ->")[0], log.split("-> ")[1].split()[0]
    assert float(last) < float(first)  # it learned something on the sample rows
    assert isinstance(AutoModelForImageTextToText.from_pretrained(out), MMReasonForConditionalGeneration)
    assert (out / "chat_template.jinja").exists() or "chat_template" in (out / "processor_config.json").read_text()


def test_cli_lists_commands():
    result = subprocess.run([sys.executable, "-m", "mmreason.cli", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "demo" in result.stdout
