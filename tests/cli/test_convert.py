"""`mmreason convert` as users run it: a LLaVA-NeXT release, offline with a warm HF cache, to llava_onevision."""

import json
import os
import subprocess
import sys

import torch
from transformers import LlavaOnevisionForConditionalGeneration

from mmreason.testing import build_tiny
from tests.model.llava_next_fixture import write_hf_cache, write_llava_next_checkpoint


def test_convert_release_to_llava_onevision_offline(tmp_path):
    model, _ = build_tiny()
    release = write_llava_next_checkpoint(model, tmp_path / "MAmmoTH-VL-8B")
    cache = write_hf_cache(tmp_path / "hub")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(cache)}
    out = tmp_path / "mammoth-vl-8b-ov"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mmreason.cli",
            "convert",
            str(release),
            str(out),
            "--to",
            "llava_onevision",
            "--max_shard_size",
            "200KB",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Writing llava_onevision tensors" in result.stderr  # progress bar
    assert json.loads((out / "config.json").read_text())["model_type"] == "llava_onevision"
    stock = LlavaOnevisionForConditionalGeneration.from_pretrained(out)
    expected = model.state_dict()  # the stock class uses the same module tree as mmreason
    assert stock.state_dict().keys() == expected.keys()
    assert all(torch.equal(stock.state_dict()[k], v) for k, v in expected.items())


def test_convert_refuses_unknown_target(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "mmreason.cli", "convert", "a", "b", "--to", "gguf"], capture_output=True, text=True
    )
    assert result.returncode != 0 and "invalid choice" in result.stderr
