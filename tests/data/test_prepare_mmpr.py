"""`prepare` of OpenGVLab/MMPR as released and of generic preference JSONL (issue #12, item 2): preference rows,
InternVL's `<image>` rule and `repeat_time`, per-dataset image roots, drops, resume and the fingerprint."""

import json
import random

import datasets
import pyarrow.parquet as pq
import pytest

from mmreason.data.builders.mmpr import MMPRMetaError, mmpr_spec, preference_jsonl_spec, read_meta
from mmreason.data.media import MediaStore
from mmreason.data.prepare import PrepareMismatchError, check_drops, prepare_corpus

from .corpus_fixtures import jpeg
from .preference_fixtures import write_mmpr

GEOQA, TEXTVQA, TEXT = "geoqa_pairs_vqa_correctness_rules", "textvqa_sr0.5_wo_image", "text_only_pairs"


def _prepare(root, out, **kwargs):
    spec_kwargs = {key: kwargs.pop(key) for key in ("seed", "sampling") if key in kwargs}
    spec, folder = mmpr_spec(root, **spec_kwargs)
    return prepare_corpus(spec, folder, out, progress=False, index_cache_dir=out.parent / "index", **kwargs)["default"]


def _rows(out):
    return [row for path in sorted((out / "default").glob("*.parquet")) for row in pq.read_table(path).to_pylist()]


def _drops(out):
    lines = (out / "prepare_logs" / "default.drops.jsonl").read_text().splitlines()
    return {drop["id"]: drop["reason"] for drop in map(json.loads, lines)}


def _text_ids(seed, size=5, count=10):
    """The documented sub-sampling: `random.Random(f"{seed}:{name}").sample(range(n), int(n * r))`, file order."""
    return [f"{TEXT}-{index}" for index in sorted(random.Random(f"{seed}:{TEXT}").sample(range(count), size))]


@pytest.fixture(scope="module")
def mmpr(tmp_path_factory):
    root = tmp_path_factory.mktemp("mmpr")
    images = write_mmpr(root / "MMPR-v1.2")
    out = root / "out"
    state = _prepare(root / "MMPR-v1.2", out)
    return root / "MMPR-v1.2", out, state, images


def test_rows_ids_and_repeat_time(mmpr):
    _, out, state, _ = mmpr
    geoqa = [f"{GEOQA}-0", f"{GEOQA}-1", f"{GEOQA}-0-r1", f"{GEOQA}-1-r1"]  # repeat_time 2: two copies
    assert [row["id"] for row in _rows(out)] == [*geoqa, f"{TEXTVQA}-0", *_text_ids(0)]
    assert state.rows == 10 and dict(state.sources) == {GEOQA: 4, TEXTVQA: 1, TEXT: 5}
    assert {row["source"] for row in _rows(out)} == {GEOQA, TEXTVQA, TEXT}


def test_drops_are_logged_with_their_reasons(mmpr):
    _, out, state, _ = mmpr
    expected = {f"{GEOQA}-2": "missing_image", f"{GEOQA}-3": "corrupt_image", f"{GEOQA}-4": "identical_completions"}
    expected |= {f"{key}-r1": reason for key, reason in expected.items()}
    assert _drops(out) == expected
    assert dict(state.drops) == {"missing_image": 2, "corrupt_image": 2, "identical_completions": 2}
    check_drops({"default": state}, out, max_drop_fraction=0.5)  # 6 of 16
    with pytest.raises(ValueError, match=r"kept 10 of 16 records, dropped 6"):
        check_drops({"default": state}, out, max_drop_fraction=0.3)


def test_rows_are_trl_preference_rows_with_internvl_placeholders(mmpr):
    _, out, _, images = mmpr
    rows = {row["id"]: row for row in _rows(out)}
    single = rows[f"{GEOQA}-0"]  # "Find x." with one image: InternVL prepends "<image>\n"
    assert [{k: v for k, v in part.items() if v is not None} for part in single["prompt"][0]["content"]] == [
        {"type": "image"}, {"type": "text", "text": "Find x."},
    ]  # fmt: skip
    assert single["prompt"][0]["role"] == "user" and len(single["prompt"]) == 1
    assert single["chosen"] == [
        {"role": "assistant", "content": [{"type": "text", "text": "x = 3.\nFinal answer: 3"}]}
    ]
    assert single["rejected"][0]["content"][0]["text"] == "x = 5.\nFinal answer: 5"
    assert single["answer_gt"] == "3"
    assert [(image["path"], image["bytes"]) for image in single["images"]] == [
        ("images/GeoQA/geo/1.jpg", images["geo/1.jpg"])  # found in images.zip without the MMPR-v1.2/ prefix
    ]
    multi = rows[f"{GEOQA}-1"]
    assert [part["type"] for part in multi["prompt"][0]["content"]] == ["text", "image", "text", "image", "text"]
    assert [image["bytes"] for image in multi["images"]] == [images["geo/1.jpg"], images["geo/2.jpg"]]
    loose = rows[f"{TEXTVQA}-0"]  # loose files under the root as written
    assert loose["images"][0]["path"] == "MMPR-v1.2/images/TextVQA/train_images/t1.jpg"
    assert [part["type"] for part in loose["prompt"][0]["content"]] == ["image", "text"]
    text = rows[_text_ids(0)[0]]
    assert text["images"] == [] and text["answer_gt"] == ""
    assert text["prompt"][0]["content"] == [
        {"type": "text", "text": text["id"].replace(f"{TEXT}-", "Question ") + "?"}
    ]


def test_loads_with_datasets_and_a_card(mmpr):
    _, out, _, _ = mmpr
    rows = datasets.load_dataset(str(out), split="train")
    assert rows.num_rows == 10
    assert set(rows.column_names) == {"id", "source", "prompt", "chosen", "rejected", "images", "answer_gt"}
    assert rows[0]["images"][0].size == (40 + 1 % 7, 30 + 1 % 5)  # jpeg(1), decoded
    card = (out / "README.md").read_text()
    assert "mmreason data prepare mmpr" in card and "TRL's conversational vision form" in card


def test_sampling_first_and_fractional_repeat_above_one(tmp_path):
    write_mmpr(tmp_path / "mmpr", text_repeat=0.3, geoqa_repeat=2.7)
    _prepare(tmp_path / "mmpr", tmp_path / "out", sampling="first")
    ids = [row["id"] for row in _rows(tmp_path / "out")]
    assert [i for i in ids if i.startswith(TEXT)] == [f"{TEXT}-{index}" for index in range(3)]  # int(10 * 0.3)
    assert sum(i.startswith(GEOQA) for i in ids) == 4  # int(2.7) = 2 copies of the 2 good records


def test_same_seed_same_rows_other_seed_is_another_run(mmpr, tmp_path):
    root, out, _, _ = mmpr
    _prepare(root, tmp_path / "again")
    assert [row["id"] for row in _rows(tmp_path / "again")] == [row["id"] for row in _rows(out)]
    with pytest.raises(PrepareMismatchError, match=r"option seed: 0 -> 7"):
        _prepare(root, tmp_path / "again", seed=7)
    _prepare(root, tmp_path / "again", seed=7, overwrite=True)
    assert [row["id"] for row in _rows(tmp_path / "again") if row["source"] == TEXT] == _text_ids(7)


def test_interrupted_prepare_resumes_without_duplicates(mmpr, tmp_path, monkeypatch):
    root, reference, _, _ = mmpr
    original, calls = MediaStore.read, {"n": 0}

    def flaky(self, path):
        calls["n"] += 1
        if calls["n"] == 6:  # inside the second copy of GeoQA (4 reads per copy)
            raise KeyboardInterrupt
        return original(self, path)

    monkeypatch.setattr(MediaStore, "read", flaky)
    with pytest.raises(KeyboardInterrupt):
        _prepare(root, tmp_path / "out", shard_rows=1)
    state = json.loads((tmp_path / "out" / "prepare_logs" / "default.state.json").read_text())
    assert not state["done"] and state["shards"] == 3 and state["position"]["file"] == 1
    monkeypatch.setattr(MediaStore, "read", original)
    again = _prepare(root, tmp_path / "out", shard_rows=1)
    assert again.rows == 10 and again.shards == 10
    assert [row["id"] for row in _rows(tmp_path / "out")] == [row["id"] for row in _rows(reference)]
    assert _drops(tmp_path / "out") == _drops(reference)


def test_meta_errors_name_the_problem(tmp_path):
    write_mmpr(tmp_path / "mmpr")
    meta = tmp_path / "mmpr" / "meta.json"
    meta.write_text(meta.read_text()[:-2] + ",\n}")  # a trailing comma, as in InternVL's debug_mpo.json
    with pytest.raises(MMPRMetaError, match="not valid JSON"):
        read_meta(meta)
    meta.write_text(
        json.dumps({"gone": {"root": "", "annotation": "MMPR-v1.2/annotations/gone.jsonl", "repeat_time": 1}})
    )
    with pytest.raises(MMPRMetaError, match=r"1 annotation file\(s\) not found .*gone: MMPR-v1.2/annotations/gone"):
        read_meta(meta)
    meta.write_text(
        json.dumps({"neg": {"root": "", "annotation": "MMPR-v1.2/annotations/geoqa.jsonl", "repeat_time": -1}})
    )
    with pytest.raises(MMPRMetaError, match="repeat_time"):
        read_meta(meta)


def test_generic_preference_jsonl_in_both_forms(tmp_path):
    (tmp_path / "imgs").mkdir()
    (tmp_path / "imgs" / "a.jpg").write_bytes(jpeg(5))
    records = [
        {"id": "mmpr-style", "image": "imgs/a.jpg", "question": "What?", "chosen": "A", "rejected": "B"},
        {"id": "canonical", "images": ["imgs/a.jpg"], "source": "mine", "answer_gt": 4,
         "prompt": [{"role": "system", "content": "Be brief."},
                    {"role": "user", "content": [{"type": "text", "text": "Look: "}, {"type": "image"}]}],
         "chosen": [{"role": "assistant", "content": "Four."}], "rejected": "Five."},
        {"id": "two-images-one-placeholder", "image": ["imgs/a.jpg", "imgs/a.jpg"], "question": "<image>\nQ?",
         "chosen": "A", "rejected": "B"},
        {"id": "ends-with-assistant", "chosen": "x", "rejected": "y",
         "prompt": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}]},
    ]  # fmt: skip
    (tmp_path / "pairs.jsonl").write_text("\n".join(json.dumps(record) for record in records) + "\n")
    spec, folder = preference_jsonl_spec(tmp_path / "pairs.jsonl")
    state = prepare_corpus(spec, folder, tmp_path / "out", progress=False)["default"]
    assert state.rows == 2 and dict(state.drops) == {"bad_role_order": 1, "image_count_mismatch": 1}
    rows = {row["id"]: row for row in _rows(tmp_path / "out")}
    assert rows["mmpr-style"]["source"] == "pairs" and rows["mmpr-style"]["images"][0]["bytes"] == jpeg(5)
    canonical = rows["canonical"]
    assert [message["role"] for message in canonical["prompt"]] == ["system", "user"]
    assert [part["type"] for part in canonical["prompt"][1]["content"]] == ["text", "image"]
    assert canonical["chosen"][0]["content"][0]["text"] == "Four." and canonical["answer_gt"] == "4"
    assert canonical["rejected"] == [{"role": "assistant", "content": [{"type": "text", "text": "Five."}]}]


def test_prepared_parquet_reprepares_as_generic_preference_rows(mmpr, tmp_path):
    """Canonical preference rows with embedded images (a prepared folder, a Hub preference dataset's shards)."""
    _, out, _, images = mmpr
    spec, folder = preference_jsonl_spec(out / "default")
    state = prepare_corpus(spec, folder, tmp_path / "again", progress=False)["default"]
    assert state.rows == 10 and not state.drops
    again, first = _rows(tmp_path / "again"), _rows(out)
    assert again == first
    assert again[0]["images"][0]["bytes"] == images["geo/1.jpg"]
