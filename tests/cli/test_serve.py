"""`mmreason serve` with a stand-in for vLLM's Python (`fake_vllm.py`): the checkpoint is exported to
`llava_onevision`, vLLM is started with it and the plugin checked first, the base URL is printed once the server
answers, and a SIGTERM stops vLLM too."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from mmreason.testing import build_tiny

ROOT = Path(__file__).resolve().parents[2]


def fake_python(tmp_path: Path) -> Path:
    script = tmp_path / "vllm-python"
    script.write_text(f'#!/bin/sh\nexec {sys.executable} {ROOT / "tests" / "cli" / "fake_vllm.py"} "$@"\n')
    script.chmod(0o755)
    return script


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_exports_starts_vllm_prints_the_url_and_stops_it(tmp_path):
    model, processor = build_tiny(vision_aspect_ratio="anyres_max_4")
    model.save_pretrained(tmp_path / "ckpt")
    processor.save_pretrained(tmp_path / "ckpt")
    port, log = free_port(), tmp_path / "vllm-args.json"
    env = {**os.environ, "FAKE_VLLM_LOG": str(log)}
    command = [sys.executable, "-m", "mmreason.cli", "serve", str(tmp_path / "ckpt"), "--vllm_python",
               str(fake_python(tmp_path)), "--port", str(port), "--ready_timeout", "60",
               "--", "--dtype", "float32"]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith(f"base_url=http://127.0.0.1:{port}/v1 "), (line, process.stderr.read())
        export = tmp_path / "ckpt-llava_onevision"
        config = json.loads((export / "config.json").read_text())
        assert config["model_type"] == "llava_onevision" and config["vision_aspect_ratio"] == "anyres_max_4"
        args = json.loads(log.read_text())
        assert args[:2] == ["--model", str(export)] and args[-2:] == ["--dtype", "float32"]
        assert args[args.index("--limit-mm-per-prompt") + 1] == '{"image": 4}'
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
        deadline = time.time() + 10
        while time.time() < deadline:  # vLLM (the stand-in) was stopped with it
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            except OSError:
                break
            time.sleep(0.2)
        else:
            raise AssertionError("vLLM still listens after mmreason serve stopped")
    finally:
        if process.poll() is None:
            process.kill()


def test_an_environment_without_the_plugin_is_refused_in_one_line(tmp_path):
    model, processor = build_tiny()
    model.save_pretrained(tmp_path / "ckpt")
    processor.save_pretrained(tmp_path / "ckpt")
    env = {**os.environ, "FAKE_VLLM_BROKEN": "1", "FAKE_VLLM_LOG": str(tmp_path / "log")}
    result = subprocess.run([sys.executable, "-m", "mmreason.cli", "serve", str(tmp_path / "ckpt"), "--vllm_python",
                             str(fake_python(tmp_path))], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)  # fmt: skip
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "pip install -e integrations/vllm" in result.stderr and not (tmp_path / "log").exists()
