"""Images that pass a header check but crash training are dropped by prepare and reported by validate.

The bad images are a PNG and a JPEG cut mid-body (valid headers) and a hand-written 16-bit grayscale PNG.
"""

import base64
import io
import json

import pytest

from mmreason.data.corpus import CorpusReader, image_problem
from mmreason.data.media import MediaStore
from mmreason.data.validate import RowValidator, image_size
from mmreason.testing import build_tiny, make_image

from ..model import png_bytes


def _encoded(fmt: str, seed: int) -> bytes:
    buffer = io.BytesIO()
    make_image(200, 120, seed=seed).save(buffer, format=fmt)
    return buffer.getvalue()


GOOD = _encoded("PNG", 0)
BAD = {
    "truncated_png": _encoded("PNG", 1)[:-3000],
    "truncated_jpeg": _encoded("JPEG", 2)[:2000],
    "gray16_png": png_bytes.gray16(64, 48, 50_000),
}
EXPECTED_ERROR = {
    "truncated_png": "CorruptImageError",
    "truncated_jpeg": "CorruptImageError",
    "gray16_png": "UnsupportedImageModeError",
}


def _record(record_id: str, image: str) -> dict:
    conversations = [{"from": "human", "value": "<image>\nWhat is it?"}, {"from": "gpt", "value": "A square."}]
    return {"id": record_id, "image": image, "conversations": conversations}


@pytest.mark.parametrize("name", sorted(BAD))
def test_image_problem_default_catches_what_training_would_crash_on(name):
    assert image_problem(GOOD) is None
    problem = image_problem(BAD[name])
    assert problem is not None and problem.startswith(EXPECTED_ERROR[name])
    if name != "gray16_png":
        assert image_problem(BAD[name], check="header") is None  # the header alone is fine


def test_prepare_reader_drops_truncated_and_16_bit_images(tmp_path):
    media = tmp_path / "media"
    media.mkdir()
    (media / "good.png").write_bytes(GOOD)
    for name, data in BAD.items():
        (media / f"{name}.img").write_bytes(data)
    records = [_record("good", "good.png")] + [_record(name, f"{name}.img") for name in sorted(BAD)]
    source = tmp_path / "records.json"
    source.write_text(json.dumps(records))
    items = list(CorpusReader([source], MediaStore([media])))
    assert [item.row["id"] for item in items if item.row] == ["good"]
    drops = {item.drop.id: item.drop for item in items if item.drop}
    assert sorted(drops) == sorted(BAD)
    for name, drop in drops.items():
        assert drop.reason == "corrupt_image" and EXPECTED_ERROR[name] in drop.detail, drop
        assert " at 0x" not in drop.detail  # deterministic details


@pytest.fixture(scope="module")
def processor():
    return build_tiny()[1]


def _row(image):
    messages = [
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Q"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "A"}]},
    ]
    return {"id": "r", "messages": messages, "images": [image], "videos": []}


@pytest.mark.parametrize("name", sorted(BAD))
def test_validator_reports_them(processor, name):
    validator = RowValidator(processor, max_length=None)  # default image_check="full", as SFT hygiene uses it
    assert validator.check(_row({"bytes": GOOD, "path": "good.png"})).issues == []
    issues = validator.check(_row({"bytes": BAD[name], "path": f"{name}.png"})).issues
    assert [reason for reason, _ in issues] == ["corrupt_image"] and EXPECTED_ERROR[name] in issues[0][1]


def test_validator_uses_the_processors_pixel_cap_and_every_source(processor, tmp_path):
    limit, processor.image_processor.max_image_pixels = processor.image_processor.max_image_pixels, 10_000
    try:
        header = RowValidator(processor, max_length=None, image_check="header")
        issues = header.check(_row({"bytes": GOOD, "path": "big.png"})).issues  # 200 x 120 = 24,000 pixels
    finally:
        processor.image_processor.max_image_pixels = limit
    assert [reason for reason, _ in issues] == ["corrupt_image"] and "ImageTooLargeError" in issues[0][1]
    uri = "data:image/png;base64," + base64.b64encode(BAD["gray16_png"]).decode()
    issues = RowValidator(processor, max_length=None, image_check="header").check(_row(uri)).issues
    assert [reason for reason, _ in issues] == ["corrupt_image"] and "UnsupportedImageModeError" in issues[0][1]
    missing = RowValidator(processor, max_length=None).check(_row(str(tmp_path / "nope.png"))).issues
    assert [reason for reason, _ in missing] == ["missing_image"]
    assert image_size(base64.b64encode(GOOD).decode(), "full") == (120, 200)  # (height, width)
