"""`mmreason synth puma-pairs`: a job without any model (rows in, PUMA pair rows out, resumable), one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import pytest
from PIL import Image

from mmreason.cli.synth import main as synth_main
from mmreason.data.preference import puma_features
from mmreason.data.schema import row_features


def _rows(path: Path) -> Path:
    def row(rid: str, question: str) -> dict:
        return {"id": rid, "source": "toygeo", "category": "single_image", "quality_group": "",
                "messages": [{"role": "user", "content": [{"type": "image", "text": None},
                                                          {"type": "text", "text": question}]},
                             {"role": "assistant", "content": [{"type": "text", "text": "Final answer: 3"}]}],
                "images": [Image.new("RGB", (40, 30), (200, 10, 10))], "videos": []}  # fmt: skip

    rows = [row("g1", "AB is 1. BC is 2. What is AC?"), row("g2", "Find $x$ if $x^2 = 9$.")]
    datasets.Dataset.from_list(rows, features=row_features()).to_parquet(str(path))
    return path


def test_puma_pairs_job_needs_no_model(tmp_path: Path, capsys) -> None:
    command = ["puma-pairs", "--input", str(_rows(tmp_path / "rows.parquet")), "--out", str(tmp_path / "job"),
               "--render_size", "256", "--seed", "3"]  # fmt: skip
    synth_main(command)
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    # g1: description "AB is 1.", conditions "BC is 2.": 3 distinct neighbour pairs; g2: only the question moves
    assert summary["done"] and summary["output_rows"] == 4 and summary["permanent_failures"] == 0
    pairs = datasets.load_dataset("parquet", data_files=str(tmp_path / "job" / "data" / "*.parquet"), split="train")
    assert pairs.features == puma_features()
    assert sorted(pairs["id"]) == [
        "g1-puma-text_dominant-text_lite",
        "g1-puma-text_lite-vision_dominant",
        "g1-puma-vision_dominant-vision_only",
        "g2-puma-vision_dominant-vision_only",
    ]
    assert {im.size for p in pairs["vision_rich_images"] for im in p} == {(256, 256)}
    assert (tmp_path / "job" / "report" / "report.md").exists()
    synth_main(command)  # a rerun resumes: nothing left to do
    again = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert again["processed_this_run"] == 0 and again["output_rows"] == 4


def test_a_changed_seed_or_a_tiny_canvas_is_one_line(tmp_path: Path, capsys) -> None:
    rows = str(_rows(tmp_path / "rows.parquet"))
    base = ["puma-pairs", "--input", rows, "--out", str(tmp_path / "job"), "--report", "false"]
    synth_main([*base, "--render_size", "128"])
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        synth_main([*base, "--render_size", "128", "--seed", "1"])
    assert exit_info.value.code == 1 and "seed" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        synth_main([*base, "--render_size", "40"])
    assert capsys.readouterr().err.strip() == (
        "mmreason synth puma-pairs: error: a 40x40 canvas is too small for margins of 16 px"
    )
