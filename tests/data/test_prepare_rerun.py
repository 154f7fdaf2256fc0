"""Re-preparing: `load_dataset` never answers from a stale cache, and `--out` never silently keeps or resumes a run
of other inputs or options (issue #10, items 6 and 7)."""

import json
import shutil

import datasets
import pyarrow.parquet as pq
import pytest

from mmreason.data.builders import llava_json_spec
from mmreason.data.media import MediaStore
from mmreason.data.prepare import PrepareMismatchError, prepare_corpus

from .corpus_fixtures import jpeg, write_mammoth_vl


def _corpus(folder, answers):
    """A LLaVA JSON file with one image per record (loose files next to it); returns the JSON path."""
    folder.mkdir(parents=True, exist_ok=True)
    records = []
    for index, answer in enumerate(answers):
        (folder / f"img{index}.jpg").write_bytes(jpeg(index))
        conversation = [{"from": "human", "value": "<image>\nWhat is it?"}, {"from": "gpt", "value": answer}]
        records.append({"id": f"r{index}", "image": f"img{index}.jpg", "conversations": conversation})
    (folder / "data.json").write_text(json.dumps(records))
    return folder / "data.json"


def _prepare(source, out, **kwargs):
    spec, folder = llava_json_spec(source)
    return prepare_corpus(spec, folder, out, progress=False, **kwargs)["default"]


def _answers_on_disk(out):
    rows = [row for path in sorted((out / "default").glob("*.parquet")) for row in pq.read_table(path).to_pylist()]
    return [row["messages"][1]["content"][0]["text"] for row in rows]


def _answers_loaded(out, cache_dir):
    rows = datasets.load_dataset(str(out), "default", split="train", cache_dir=str(cache_dir))
    return [row["messages"][1]["content"][0]["text"] for row in rows]


def test_suite_uses_its_own_datasets_cache(datasets_cache):
    assert datasets_cache == datasets.config.HF_DATASETS_CACHE
    assert datasets_cache.name.startswith("mmreason-tests-hf-datasets-")


def test_reprepared_folder_is_not_read_from_a_warm_cache(tmp_path):
    cache = tmp_path / "warm_cache"  # shared by every load below
    out = tmp_path / "first" / "corpus"
    _prepare(_corpus(tmp_path / "a", ["yes", "no!"]), out)
    assert _answers_loaded(out, cache) == ["yes", "no!"]
    # the folder deleted and prepared again: same row count, text lengths and images, only the words differ
    shutil.rmtree(out)
    _prepare(_corpus(tmp_path / "b", ["nay", "ok!"]), out)
    assert _answers_loaded(out, cache) == ["nay", "ok!"]
    # another folder with the same name
    twin = tmp_path / "second" / "corpus"
    _prepare(_corpus(tmp_path / "c", ["abc", "def", "ghi"]), twin)
    assert _answers_loaded(twin, cache) == ["abc", "def", "ghi"]
    # prepared over with --overwrite
    _prepare(_corpus(tmp_path / "d", ["one", "two"]), out, overwrite=True)
    assert _answers_loaded(out, cache) == ["one", "two"]


def test_card_dataset_info_is_what_datasets_checks(tmp_path):
    out = tmp_path / "corpus"
    state = _prepare(_corpus(tmp_path / "raw", ["a", "b", "c"]), out, shard_rows=1)
    info = datasets.load_dataset_builder(str(out), "default").info
    assert info.splits["train"].num_examples == 3 == state.rows
    assert info.features == datasets.load_dataset(str(out), "default", split="train").features
    (out / "default" / "train-00002-of-00003.parquet").unlink()  # a shard lost in a copy
    with pytest.raises(datasets.exceptions.NonMatchingSplitsSizesError):
        datasets.load_dataset(str(out), "default", split="train", cache_dir=str(tmp_path / "fresh"))


def test_finished_run_with_other_source_or_options_is_an_error(tmp_path):
    source = _corpus(tmp_path / "raw", ["a1", "a2", "a3"])
    out = tmp_path / "out"
    assert _prepare(source, out, shard_rows=2).rows == 3
    copy = shutil.copytree(tmp_path / "raw", tmp_path / "copy")  # same content, new paths and mtimes
    assert _prepare(copy / "data.json", out, shard_rows=2).rows == 3  # the same run: kept
    with pytest.raises(PrepareMismatchError, match=r"finished run .*option shard_rows: 2 -> 3"):
        _prepare(source, out, shard_rows=3)
    with pytest.raises(PrepareMismatchError, match=r"option check_images: True -> False"):
        _prepare(source, out, shard_rows=2, check_images=False)
    with pytest.raises(PrepareMismatchError, match=r"new media .*extra"):
        (tmp_path / "extra").mkdir()
        _prepare(source, out, shard_rows=2, media_dirs=(str(tmp_path / "extra"),))
    _corpus(tmp_path / "raw", ["b1", "b2", "b3", "b4"])
    with pytest.raises(PrepareMismatchError, match=r"record file data.json changed \(\d+ bytes, sha256 \w+ -> "):
        _prepare(source, out, shard_rows=2)
    assert _answers_on_disk(out) == ["a1", "a2", "a3"]  # an error changes nothing
    state = _prepare(source, out, shard_rows=2, overwrite=True)
    assert state.rows == 4 and _answers_on_disk(out) == ["b1", "b2", "b3", "b4"]
    assert sorted(p.name for p in (out / "default").iterdir()) == [
        "train-00000-of-00002.parquet",
        "train-00001-of-00002.parquet",
    ]


def test_interrupted_run_with_other_source_or_options_is_an_error(tmp_path, monkeypatch):
    source = _corpus(tmp_path / "raw", [f"a{i}" for i in range(6)])
    out = tmp_path / "out"
    original, calls = MediaStore.read, {"n": 0}

    def flaky(self, path):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return original(self, path)

    monkeypatch.setattr(MediaStore, "read", flaky)
    with pytest.raises(KeyboardInterrupt):
        _prepare(source, out, shard_rows=2)
    monkeypatch.setattr(MediaStore, "read", original)
    assert json.loads((out / "prepare_logs" / "default.state.json").read_text())["shards"] == 1
    with pytest.raises(PrepareMismatchError, match=r"interrupted run .*option shard_rows: 2 -> 4"):
        _prepare(source, out, shard_rows=4)
    _corpus(tmp_path / "raw", [f"b{i}" for i in range(5)])
    with pytest.raises(PrepareMismatchError, match=r"interrupted run .*record file data.json changed"):
        _prepare(source, out, shard_rows=2)
    state = _prepare(source, out, shard_rows=4, overwrite=True)
    assert state.rows == 5 and state.shards == 2
    assert _answers_on_disk(out) == [f"b{i}" for i in range(5)]  # nothing of the first run is left


def test_overwrite_of_the_same_run_starts_afresh(tmp_path):
    source = _corpus(tmp_path / "raw", ["x", "y"])
    out = tmp_path / "out"
    _prepare(source, out)
    (out / "default" / "train-00007.parquet.tmp").write_bytes(b"leftover")
    state = _prepare(source, out, overwrite=True)
    assert state.rows == 2 and [p.name for p in (out / "default").iterdir()] == ["train-00000-of-00001.parquet"]
    assert (out / "prepare_logs" / "default.drops.jsonl").read_text() == ""


def test_changed_media_archive_is_an_error(tmp_path):
    write_mammoth_vl(tmp_path / "raw")
    out = tmp_path / "out"
    run = {"subsets": ["ov"], "progress": False, "index_cache_dir": tmp_path / "index"}
    assert prepare_corpus("mammoth-vl", tmp_path / "raw", out, **run)["ov"].rows == 4
    with open(tmp_path / "raw" / "multi_image_data" / "shard_1.tar.gz", "ab") as archive:
        archive.write(b"\0" * 512)  # e.g. re-downloaded or re-packed
    with pytest.raises(PrepareMismatchError, match=r"media multi_image_data/shard_1.tar.gz changed \(\d+ bytes ->"):
        prepare_corpus("mammoth-vl", tmp_path / "raw", out, **run)
