import json

import datasets
import pyarrow.parquet as pq
import pytest
import yaml

from mmreason.data.llava import canonical_to_llava
from mmreason.data.media import MediaStore
from mmreason.data.prepare import prepare_corpus

NO_DECODE = datasets.List(datasets.Video(decode=False))


def _ids(out, subset):
    return [
        row["id"] for path in sorted((out / subset).glob("train-*.parquet")) for row in pq.read_table(path).to_pylist()
    ]


def _drops(out, subset):
    return [
        json.loads(line)["id"] for line in (out / "prepare_logs" / f"{subset}.drops.jsonl").read_text().splitlines()
    ]


@pytest.fixture(scope="module")
def prepared(mammoth_vl, tmp_path_factory):
    root, _ = mammoth_vl
    out = tmp_path_factory.mktemp("prepared")
    states = prepare_corpus(
        "mammoth-vl", root, out, shard_rows=8, progress=False, index_cache_dir=out.parent / "index"
    )
    return out, states


def test_prepare_mammoth_vl_counts_and_card(prepared, mammoth_vl):
    out, states = prepared
    _, records = mammoth_vl
    assert states["si"].rows == len(records["si"]) - 3 and states["si"].shards == 4
    assert dict(states["si"].drops) == {"missing_image": 1, "corrupt_image": 1, "image_count_mismatch": 1}
    assert states["ov"].rows == 4 and states["ov"].categories == {"single_image": 1, "multi_image": 2, "video": 1}
    assert sorted(p.name for p in (out / "si").iterdir())[0] == "train-00000-of-00004.parquet"
    card = (out / "README.md").read_text()
    meta = yaml.safe_load(card.split("---")[1])
    assert {c["config_name"]: c["data_files"][0]["path"] for c in meta["configs"]} == {
        "si": "si/train-*.parquet",
        "ov": "ov/train-*.parquet",
    }
    assert "M4-Instruct-Data" in card and "missing_image" in card
    assert meta["license"] == "apache-2.0" and "License: apache-2.0, as the original corpus" in card
    assert {info["config_name"]: info["splits"][0]["num_examples"] for info in meta["dataset_info"]} == {
        "si": 31,
        "ov": 4,
    }
    drops = [json.loads(line) for line in (out / "prepare_logs" / "si.drops.jsonl").read_text().splitlines()]
    assert {d["id"]: d["reason"] for d in drops} == {
        "bad-missing": "missing_image",
        "bad-corrupt": "corrupt_image",
        "bad-count": "image_count_mismatch",
    }
    assert drops[0]["record"]["image"] == "M4-Instruct-Data/none.jpg"  # the raw record is kept


def test_load_dataset_plain_and_streaming(prepared, mammoth_vl):
    out, _ = prepared
    _, records = mammoth_vl
    si = datasets.load_dataset(str(out), "si", split="train")
    assert si.features["images"] == datasets.List(datasets.Image())
    assert len(si) == 31 and si[0]["images"][0].size == (40, 30)
    good = [r for r in records["si"] if not r["id"].startswith("bad-")]
    assert [
        canonical_to_llava(row) for row in si.cast_column("images", datasets.List(datasets.Image(decode=False)))
    ] == good
    stream = datasets.load_dataset(str(out), "ov", split="train", streaming=True).cast_column("videos", NO_DECODE)
    first = next(iter(stream))
    assert first["images"][0].size == (40, 30)  # decoded on the fly
    rows = list(stream.cast_column("images", datasets.List(datasets.Image(decode=False))))
    assert [canonical_to_llava(row) for row in rows] == records["ov"]
    video = rows[-1]
    assert video["videos"][0]["bytes"].startswith(b"\x00\x00\x00\x18ftyp")
    assert [len(r["images"]) for r in rows] == [1, 2, 4, 0]


def test_interrupted_prepare_resumes_without_duplicates(mammoth_vl, prepared, tmp_path, monkeypatch):
    root, _ = mammoth_vl
    reference, _ = prepared
    out = tmp_path / "out"
    original, calls = MediaStore.read, {"n": 0}

    def flaky(self, path):
        calls["n"] += 1
        if calls["n"] == 21:
            raise KeyboardInterrupt
        return original(self, path)

    monkeypatch.setattr(MediaStore, "read", flaky)
    with pytest.raises(KeyboardInterrupt):
        prepare_corpus("mammoth-vl", root, out, subsets=["si"], shard_rows=8, progress=False, index_cache_dir=tmp_path)
    state = json.loads((out / "prepare_logs" / "si.state.json").read_text())
    assert state["shards"] == 2 and not state["done"]
    (out / "si" / "train-00005.parquet").write_bytes(b"stale partial shard")  # leftover of a crashed writer
    monkeypatch.setattr(MediaStore, "read", original)
    states = prepare_corpus(
        "mammoth-vl", root, out, subsets=["si"], shard_rows=8, progress=False, index_cache_dir=tmp_path
    )
    assert states["si"].rows == 31
    assert _ids(out, "si") == _ids(reference, "si")
    assert len(set(_ids(out, "si"))) == 31
    assert _drops(out, "si") == _drops(reference, "si")
    assert datasets.load_dataset(str(out), "si", split="train").num_rows == 31
    again = prepare_corpus(
        "mammoth-vl", root, out, subsets=["si"], shard_rows=8, progress=False, index_cache_dir=tmp_path
    )
    assert again["si"].rows == 31  # a finished subset is not redone


def test_prepare_visualwebinstruct_all_configs(visualwebinstruct, tmp_path):
    root, records = visualwebinstruct
    states = prepare_corpus("visualwebinstruct", root, tmp_path / "out", progress=False, index_cache_dir=tmp_path)
    assert set(states) == {"conversation", "visualwebinstruct", "example"}  # the files that exist
    assert dict(states["visualwebinstruct"].drops) == {"malformed_json": 1}
    qa = datasets.load_dataset(str(tmp_path / "out"), "visualwebinstruct", split="train")
    assert [row["id"] for row in qa] == [str(r["idx"]) for r in records["visualwebinstruct"]]
    two = qa[5]
    assert [p["type"] for p in two["messages"][0]["content"]] == ["image", "image", "text"] and len(two["images"]) == 2
    assert qa[4]["images"] == [] and qa[4]["category"] == "text"
    mixed = datasets.load_dataset(str(tmp_path / "out"), "conversation", split="train", streaming=True)
    assert [row["source"] for row in mixed] == ["visualwebinstruct"] * 3 + ["ai2d"]
    example = datasets.load_dataset(str(tmp_path / "out"), "example", split="train")
    assert len(example) == 3 and example[0]["images"][0].mode == "RGB"


def test_unknown_subset_and_empty_source(tmp_path):
    with pytest.raises(ValueError, match="subsets"):
        prepare_corpus("mammoth-vl", tmp_path, tmp_path / "out", subsets=["nope"])
    with pytest.raises(FileNotFoundError, match="no mammoth-vl subset"):
        prepare_corpus("mammoth-vl", tmp_path, tmp_path / "out")


def test_card_loads_strictly_as_a_dataset_card(prepared):
    """The Hub's own parser accepts the card's metadata (configs, task, license fields) without errors."""
    from huggingface_hub import DatasetCard

    out, _ = prepared
    card = DatasetCard.load(out / "README.md", ignore_metadata_errors=False)
    data = card.data.to_dict()
    assert [c["config_name"] for c in data["configs"]] == ["si", "ov"]
    assert "missing_image" in card.text
