"""`mmreason data prepare | validate | export-llava` as users run them (subprocesses, offline)."""

import json
import os
import subprocess
import sys

import datasets
import pytest

from mmreason.cli.data import main as data_main
from mmreason.testing import build_tiny
from tests.data.corpus_fixtures import write_mammoth_vl


def _run(*args, cwd):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(cwd / "hf_home")}
    result = subprocess.run(
        [sys.executable, "-m", "mmreason.cli", "data", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_prepare_validate_export_round_trip(tmp_path):
    records = write_mammoth_vl(tmp_path / "raw")
    result = _run("prepare", "mammoth-vl", "--source", tmp_path / "raw", "--out", tmp_path / "out", cwd=tmp_path)
    assert "mammoth-vl/si" in result.stderr  # progress bar
    assert "si: 31 rows in 1 shards" in result.stderr
    assert (tmp_path / "hf_home" / "mmreason" / "archive_index").is_dir()  # indexes live in the HF cache

    processor = build_tiny(real_geometry=True)[1]
    processor.save_pretrained(tmp_path / "processor")
    result = _run(
        "validate", tmp_path / "out", "--dataset_config", "si", "--processor", tmp_path / "processor",
        "--max_length", "1500", "--out", tmp_path / "report", cwd=tmp_path,
    )  # fmt: skip
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    lengths = []  # reference: what the processor really produces for each prepared row
    for row in datasets.load_dataset(str(tmp_path / "out"), "si", split="train"):
        images = iter(row["images"])
        messages = [
            {
                **m,
                "content": [
                    {"type": "image", "image": next(images)} if p["type"] == "image" else p for p in m["content"]
                ],
            }
            for m in row["messages"]
        ]
        lengths.append(len(processor.apply_chat_template(messages, tokenize=True, return_dict=True)["input_ids"][0]))
    assert summary["rows"] == 31 and summary["issues"] == {"over_length": sum(n > 1500 for n in lengths)}
    assert summary["tokens"]["max"] == max(lengths) and 0 < summary["issues"]["over_length"] < 31
    assert (tmp_path / "report" / "token_lengths.png").exists()

    _run(
        "export-llava", tmp_path / "out", "--dataset_config", "ov", "--out", tmp_path / "ov.json",
        "--media_folder", tmp_path / "media", cwd=tmp_path,
    )  # fmt: skip
    assert json.loads((tmp_path / "ov.json").read_text()) == records["ov"]
    assert (tmp_path / "media" / records["ov"][1]["image"][0]).is_file()
    assert (tmp_path / "media" / records["ov"][3]["video"]).is_file()


def test_prepare_own_llava_json(tmp_path):
    records = write_mammoth_vl(tmp_path / "raw")
    _run(
        "prepare", "llava", "--source", tmp_path / "raw" / "mammoth_ov_2M.json",
        "--media_dirs", tmp_path / "raw" / "multi_image_data", tmp_path / "raw" / "single_image_data",
        tmp_path / "raw" / "video_data", "--out", tmp_path / "mine", cwd=tmp_path,
    )  # fmt: skip
    _run("export-llava", tmp_path / "mine", "--out", tmp_path / "back.jsonl", cwd=tmp_path)
    back = [json.loads(line) for line in (tmp_path / "back.jsonl").read_text().splitlines()]
    assert back == records["ov"]


def test_prepare_into_an_out_of_another_run_needs_overwrite(tmp_path):
    records = write_mammoth_vl(tmp_path / "raw")
    args = ["prepare", "llava", "--source", str(tmp_path / "raw" / "mammoth_ov_2M.json"), "--out", str(tmp_path / "o")]
    media = ["--media_dirs", *(str(tmp_path / "raw" / name) for name in ("single_image_data", "multi_image_data"))]
    media += [str(tmp_path / "raw" / "video_data"), "--index_cache_dir", str(tmp_path / "index")]
    data_main([*args, *media, "--shard_rows", "2"])
    with pytest.raises(SystemExit, match=r"finished run of 'default'.*option shard_rows: 2 -> 3.*--overwrite"):
        data_main([*args, *media, "--shard_rows", "3"])
    data_main([*args, *media, "--shard_rows", "3", "--overwrite"])
    state = json.loads((tmp_path / "o" / "prepare_logs" / "default.state.json").read_text())
    assert (state["rows"], state["shards"]) == (len(records["ov"]), 2)
    assert state["fingerprint"]["options"]["shard_rows"] == 3
    assert sorted(path.name for path in (tmp_path / "o" / "default").iterdir()) == [
        "train-00000-of-00002.parquet",
        "train-00001-of-00002.parquet",
    ]
