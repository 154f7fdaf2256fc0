"""Property tests for the preference / PUMA readers (issue #12, item 2): any record (wrong types, missing keys, odd
Unicode), any line (malformed JSON, invalid UTF-8) and hostile images (corrupt, empty, truncated, a decompression
bomb's header) end as a row or a reported drop with a documented reason, never as a crash; `meta.json` errors are
`MMPRMetaError`s."""

import io
import json
import struct
import tempfile
import zlib
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmreason.data.builders.math_puma import math_puma_spec
from mmreason.data.builders.mmpr import MMPRMetaError, preference_jsonl_spec, read_meta
from mmreason.data.llava import RecordError
from mmreason.data.preference import preference_record_to_row, puma_record_to_row
from mmreason.data.prepare import prepare_corpus
from mmreason.data.reasons import DROP_REASONS
from mmreason.testing import make_image

from .corpus_fixtures import jpeg

FAST = settings(max_examples=200, deadline=None)
FILES = settings(max_examples=12, deadline=None)
TEXT = st.text(st.characters(exclude_categories=()), max_size=6) | st.sampled_from(["\ud83d", "😀", "", " ", "é"])
PROMPT = st.lists(st.sampled_from(["<image>", "<video>", "\n", "<image>\n", "Q", "<imag"]) | TEXT, max_size=4).map(
    "".join
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda c: st.lists(c, max_size=3) | st.dictionaries(TEXT, c, max_size=3),
    max_leaves=4,
)
IMAGES = ["good.jpg", "good.png", "corrupt.jpg", "empty.jpg", "truncated.jpg", "bomb.png", "absent.jpg", "../x.jpg"]
IMAGE = st.sampled_from(IMAGES) | st.lists(st.sampled_from(IMAGES), max_size=3) | st.just("") | JSON
MESSAGE = st.fixed_dictionaries(
    {}, optional={"role": st.sampled_from(["user", "assistant", "system", "robot"]) | JSON, "content": PROMPT | JSON}
)
WORDS = st.text(st.sampled_from("abcdef é😀<>\n"), min_size=2, max_size=8) | TEXT


def _mutated(base, overrides, keys):
    """Records near the valid form (`base`, some keys replaced by `overrides`, some of `keys` removed), valid ones
    and any JSON value."""
    near = st.builds(
        lambda record, replaced, removed: {k: v for k, v in {**record, **replaced}.items() if k not in removed},
        base,
        st.just({}) | st.fixed_dictionaries({}, optional=overrides),
        st.just(set()) | st.sets(st.sampled_from(keys), max_size=2),
    )
    return st.one_of(base, near, near, JSON)


PREFERENCE_KEYS = ("question", "chosen", "rejected", "image")
PREFERENCE = (
    _mutated(
        st.fixed_dictionaries({
            "question": PROMPT, "chosen": WORDS, "rejected": WORDS,
            "image": st.sampled_from(["good.jpg", "", ["good.jpg", "good.png"], "bomb.png", "absent.jpg"]),
        }).map(lambda record: {**record, "rejected": f"not {record['chosen']}"}),
        {
            "id": TEXT | st.integers() | JSON, "image": IMAGE, "question": PROMPT | JSON,
            "chosen": PROMPT | st.lists(MESSAGE, max_size=2) | JSON,
            "rejected": PROMPT | st.lists(MESSAGE, max_size=2) | JSON, "answer_gt": TEXT | st.integers() | JSON,
            "prompt": st.lists(MESSAGE, max_size=3) | PROMPT | JSON, "images": IMAGE,
            "video": st.sampled_from(["", "v.mp4"]), "source": TEXT | JSON,
        },
        PREFERENCE_KEYS,
    )
)  # fmt: skip
ANSWER = st.sampled_from(["42", "42 ", ""]) | TEXT | JSON
PUMA_KEYS = ("image_url", "instruction", "output", "image_url_2", "instruction_2", "output_2")
PUMA = (
    _mutated(
        st.fixed_dictionaries({
            "image_url": st.sampled_from(["good.jpg", "", "corrupt.jpg"]), "instruction": PROMPT,
            "image_url_2": st.sampled_from(["good.png", "truncated.jpg"]), "instruction_2": PROMPT,
            "output": st.just("42"), "output_2": st.just("42"),
        }),
        {
            "image_url": IMAGE, "instruction": PROMPT | JSON, "output": ANSWER, "image_url_2": IMAGE,
            "instruction_2": PROMPT | JSON, "output_2": ANSWER, "id": TEXT | JSON,
        },
        PUMA_KEYS,
    )
)  # fmt: skip


def _png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A PNG whose header claims 10^10 pixels (its body is one empty IDAT)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hostile_media")
    png = io.BytesIO()
    make_image(20, 10, seed=3).save(png, format="PNG")
    files = {
        "good.jpg": jpeg(1), "good.png": png.getvalue(), "corrupt.jpg": b"\xff\xd8 not a jpeg",
        "empty.jpg": b"", "truncated.jpg": jpeg(2)[:60], "bomb.png": _png_bomb(),
    }  # fmt: skip
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def _stores(row, message_columns, media_columns) -> None:
    """Independent of the converter: roles, parts and media lists of the agreed form; pyarrow stores the row."""
    for column in message_columns:
        for message in row[column]:
            assert message["role"] in ("system", "user", "assistant")
            assert all(part["type"] in ("text", "image") for part in message["content"])
    for column in media_columns:
        assert all(isinstance(path, str) and path for path in row[column])
    pa.Table.from_pylist([row])  # raises on a lone surrogate


@pytest.mark.timeout(60)
@FAST
@given(record=PREFERENCE)
def test_any_preference_record_is_a_documented_drop_or_a_pair(record):
    try:
        row = preference_record_to_row(record, "fallback")
    except RecordError as error:
        assert error.reason in DROP_REASONS
        return
    _stores(row, ("prompt", "chosen", "rejected"), ("images",))
    assert row["prompt"][-1]["role"] == "user"
    assert [m["role"] for m in row["chosen"]] == [m["role"] for m in row["rejected"]] == ["assistant"]
    texts = ["".join(p["text"] for p in row[side][0]["content"]) for side in ("chosen", "rejected")]
    assert all(text.strip() for text in texts) and texts[0] != texts[1]


@pytest.mark.timeout(60)
@FAST
@given(record=PUMA)
def test_any_puma_record_is_a_documented_drop_or_a_pair(record):
    try:
        row = puma_record_to_row(record, "fallback")
    except RecordError as error:
        assert error.reason in DROP_REASONS
        return
    _stores(row, ("text_rich", "vision_rich"), ("text_rich_images", "vision_rich_images"))
    assert row["answer"].strip() and len(row["vision_rich_images"]) == 1
    for side in ("text_rich", "vision_rich"):
        assert row[side][-1] == {"role": "assistant", "content": [{"type": "text", "text": row["answer"]}]}


LINE = (
    PREFERENCE.map(lambda record: json.dumps(record).encode())
    | PUMA.map(lambda record: json.dumps(record).encode())
    | st.binary(max_size=24).filter(lambda data: b"\n" not in data and b"\r" not in data)
    | PREFERENCE.map(lambda record: json.dumps(record).encode()[:-3])  # cut
)


def _prepare_lines(lines: list[bytes], make_spec, media: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "pairs.jsonl"
        source.write_bytes(b"\n".join(lines) + b"\n")
        spec, folder = make_spec(source)
        out = Path(tmp) / "out"
        state = prepare_corpus(spec, folder, out, media_dirs=(str(media),), progress=False, index_cache_dir=tmp)
        state = state["default"]
        records = sum(1 for line in lines if line.strip(b" \t\r\n"))
        assert state.rows + state.drops.total() == records
        assert set(state.drops) <= set(DROP_REASONS)
        logged = (out / "prepare_logs" / "default.drops.jsonl").read_bytes().splitlines()  # not at U+0085
        assert len(logged) == state.drops.total()


@pytest.mark.timeout(120)
@FILES
@given(lines=st.lists(LINE, min_size=1, max_size=6))
def test_preference_prepare_never_crashes(lines, media):
    _prepare_lines(lines, preference_jsonl_spec, media)


@pytest.mark.timeout(120)
@FILES
@given(lines=st.lists(LINE, min_size=1, max_size=6))
def test_math_puma_prepare_never_crashes(lines, media):
    _prepare_lines(lines, math_puma_spec, media)


def test_hostile_images_are_dropped_with_their_reason(media, tmp_path):
    lines = [
        json.dumps({"id": name, "image": name, "question": "Q", "chosen": "a", "rejected": "b"}) for name in IMAGES
    ]
    (tmp_path / "pairs.jsonl").write_text("\n".join(lines) + "\n")
    spec, folder = preference_jsonl_spec(tmp_path / "pairs.jsonl")
    prepare_corpus(spec, folder, tmp_path / "out", media_dirs=(str(media),), progress=False)
    drops = [json.loads(line) for line in (tmp_path / "out/prepare_logs/default.drops.jsonl").read_text().splitlines()]
    assert {drop["id"]: drop["reason"] for drop in drops} == {
        "corrupt.jpg": "corrupt_image", "empty.jpg": "corrupt_image", "truncated.jpg": "corrupt_image",
        "bomb.png": "corrupt_image", "absent.jpg": "missing_image", "../x.jpg": "missing_image",
    }  # fmt: skip
    assert "ImageTooLargeError" in next(drop["detail"] for drop in drops if drop["id"] == "bomb.png")


@pytest.mark.timeout(60)
@FAST
@given(meta=JSON | st.dictionaries(TEXT, st.fixed_dictionaries({}, optional={
    "root": TEXT | JSON, "annotation": st.sampled_from(["a.jsonl", "b.json", "gone.jsonl"]) | JSON,
    "repeat_time": st.floats(allow_nan=True) | st.integers() | JSON}), max_size=3))  # fmt: skip
def test_any_meta_json_is_entries_or_a_meta_error(meta):
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "a.jsonl").write_text("{}\n")
        (Path(tmp) / "meta.json").write_text(json.dumps(meta))
        try:
            entries = read_meta(Path(tmp) / "meta.json")
        except MMPRMetaError:
            return
        assert all(entry.annotation.name == "a.jsonl" and entry.repeat_time >= 0 for entry in entries)
