"""What `data prepare` reports and claims: one reason name per defect (the same in `validate`), drop details that
name the file and read the same on every run, and no license on cards of user data (issue #10, item 10)."""

import json
import re
from pathlib import Path

import yaml

import mmreason
from mmreason.data.builders import llava_json_spec
from mmreason.data.media import MediaStore
from mmreason.data.prepare import prepare_corpus
from mmreason.data.reasons import DROP_REASONS, name_the_file
from mmreason.data.validate import RowValidator, llava_rows, validate_rows

from .corpus_fixtures import jpeg

CORRUPT = b"\xff\xd8 not really a jpeg"


def _turns(question, answer="A.", user="human"):
    return [{"from": user, "value": question}, {"from": "gpt", "value": answer}]


def _defective_corpus(folder: Path) -> dict[str, str]:
    """A JSONL file with one record per defect; returns record id -> the defect's (hand-assigned) reason."""
    (folder / "imgs").mkdir(parents=True)
    (folder / "imgs" / "good.jpg").write_bytes(jpeg(1))
    (folder / "imgs" / "bad.jpg").write_bytes(CORRUPT)
    (folder / "clip.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")  # present: its only defect is the count
    records = {
        "ok": ({"image": "imgs/good.jpg", "conversations": _turns("<image>\nQ?")}, None),
        "two-placeholders": (
            {"image": "imgs/good.jpg", "conversations": _turns("<image>\n<image>\nQ?")},
            "image_count_mismatch",
        ),
        "no-placeholder-video": ({"video": "clip.mp4", "conversations": _turns("Q?")}, "video_count_mismatch"),
        "missing": ({"image": "imgs/none.jpg", "conversations": _turns("<image>\nQ?")}, "missing_image"),
        "corrupt": ({"image": "imgs/bad.jpg", "conversations": _turns("<image>\nQ?")}, "corrupt_image"),
        "robot": ({"conversations": _turns("Q?", user="robot")}, "bad_role"),
        "no-turns": ({"text": "Q?"}, "malformed"),
    }
    lines = [json.dumps({"id": key, **record}) for key, (record, _) in records.items()]
    lines.append('{"id": "cut", "conversations": [')
    (folder / "data.jsonl").write_text("\n".join(lines) + "\n")
    expected = {key: reason for key, (_, reason) in records.items() if reason}
    return {**expected, "data-7": "malformed_json"}  # unreadable: named by file stem and record number


def _prepare_drops(folder: Path, out: Path) -> list[dict]:
    spec, source = llava_json_spec(folder / "data.jsonl")
    prepare_corpus(spec, source, out, progress=False, index_cache_dir=out.parent / "index")
    return [json.loads(line) for line in (out / "prepare_logs" / "default.drops.jsonl").read_text().splitlines()]


def _validate_drops(folder: Path, processor) -> list[dict]:
    media = MediaStore(cache_dir=folder.parent / "index")
    media.add(folder, archives=False)
    report = validate_rows(llava_rows(folder / "data.jsonl", media), RowValidator(processor), progress=False)
    return report.dropped


def test_prepare_and_validate_give_each_defect_one_documented_name(tmp_path, tiny):
    expected = _defective_corpus(tmp_path / "raw")
    prepared = {drop["id"]: drop["reason"] for drop in _prepare_drops(tmp_path / "raw", tmp_path / "out")}
    validated = {drop["id"]: drop["reasons"] for drop in _validate_drops(tmp_path / "raw", tiny[1])}
    assert prepared == expected
    assert validated == {key: [reason] for key, reason in expected.items()}
    assert set(expected.values()) <= set(DROP_REASONS)


def test_every_record_error_reason_in_the_package_is_documented():
    package = Path(mmreason.__file__).parent
    names = {
        name
        for path in package.rglob("*.py")
        for name in re.findall(r'RecordError\(\s*"([a-z_]+)"', path.read_text(encoding="utf-8"))
    }
    assert {"malformed", "bad_role"} <= names
    assert names <= set(DROP_REASONS), names - set(DROP_REASONS)


def test_drop_details_name_the_file_and_are_the_same_on_every_run(tmp_path, tiny):
    _defective_corpus(tmp_path / "raw")
    first = _prepare_drops(tmp_path / "raw", tmp_path / "one")
    second = _prepare_drops(tmp_path / "raw", tmp_path / "two")
    assert first == second
    details = {drop["id"]: drop["detail"] for drop in first}
    assert all(drop["file"] == "data.jsonl" for drop in first)
    assert "imgs/bad.jpg" in details["corrupt"] and "imgs/none.jpg" in details["missing"]
    assert "line 8" in details["data-7"]
    validated = [detail for drop in _validate_drops(tmp_path / "raw", tiny[1]) for detail in drop["details"]]
    assert validated == [detail for drop in _validate_drops(tmp_path / "raw", tiny[1]) for detail in drop["details"]]
    assert any("imgs/bad.jpg" in detail for detail in validated if detail.startswith("corrupt_image"))
    for detail in [*details.values(), *validated]:
        assert not re.search(r"object at 0x[0-9a-f]+", detail), detail


def test_name_the_file_replaces_in_memory_file_reprs():
    pil_message = "cannot identify image file <_io.BytesIO object at 0x7f3a1c2b9e50>"
    assert name_the_file(pil_message, "a/b.jpg") == "cannot identify image file 'a/b.jpg'"
    assert name_the_file("truncated at byte 12", "a/b.jpg") == "truncated at byte 12"


def test_card_of_user_data_claims_no_license(tmp_path):
    _defective_corpus(tmp_path / "raw")
    _prepare_drops(tmp_path / "raw", tmp_path / "out")
    card = (tmp_path / "out" / "README.md").read_text()
    meta = yaml.safe_load(card.split("---")[1])
    assert "license" not in meta
    assert "apache" not in card.lower() and "License: not stated" in card
