"""Untrusted uploads: every hostile file gets one message and the rest of the turn goes on; accepted images are
downscaled; a long paste (a .txt file) becomes text."""

import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from mmreason.serve.uploads import UploadLimits, downscale, read_uploads
from tests.model import png_bytes


def _png(path, size=(40, 30), colour=(200, 10, 10)):
    Image.new("RGB", size, colour).save(path)
    return str(path)


def test_good_images_pass_and_large_ones_are_downscaled(tmp_path):
    found = read_uploads([_png(tmp_path / "a.png"), _png(tmp_path / "big.png", (3000, 1000))],
                         UploadLimits(max_side=600))  # fmt: skip
    assert found.problems == [] and [im.size for im in found.images] == [(40, 30), (600, 200)]
    assert found.images[0].getpixel((0, 0)) == (200, 10, 10)


def test_each_bad_file_gets_one_message_and_the_good_one_is_kept(tmp_path):
    (tmp_path / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    (tmp_path / "bomb.png").write_bytes(png_bytes.bomb(10_000))  # 100M pixels from a few KB
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.4 not an image")
    (tmp_path / "huge.png").write_bytes(b"\x00" * 40_000)
    paths = [tmp_path / n for n in ("corrupt.png", "bomb.png", "notes.pdf", "huge.png")]
    good = _png(tmp_path / "good.png")
    found = read_uploads([*map(str, paths), str(tmp_path / "missing.png"), good],
                         UploadLimits(max_bytes=30_000, max_pixels=10_000_000))  # fmt: skip
    assert len(found.images) == 1 and len(found.problems) == 5
    for name, words in [("corrupt.png", "not a usable image"), ("bomb.png", "not a usable image"),
                        ("notes.pdf", "not a usable image"), ("huge.png", "39.1 KiB, over the 29.3 KiB limit"),
                        ("missing.png", "could not be read")]:  # fmt: skip
        assert any(p.startswith(name) and words in p for p in found.problems), (name, found.problems)


def test_too_many_images_are_refused_past_the_limit(tmp_path):
    paths = [_png(tmp_path / f"{i}.png") for i in range(5)]
    found = read_uploads(paths, UploadLimits(max_images=3))
    assert len(found.images) == 3 and len(found.problems) == 2 and "at most 3 images" in found.problems[0]


def test_long_paste_arrives_as_text_and_is_cut_at_the_limit(tmp_path):
    (tmp_path / "paste.txt").write_bytes(("é" * 50).encode() + b"\xff" + b"x" * 100)
    found = read_uploads([str(tmp_path / "paste.txt")], UploadLimits(max_text_chars=60))
    assert found.images == [] and found.texts == ["é" * 50 + "\ufffd" + "x" * 9]
    assert "first 60 characters" in found.problems[0]


def test_downscale_keeps_aspect_and_small_images():
    image = Image.new("RGB", (10, 5))
    assert downscale(image, 20) is image
    assert downscale(Image.new("RGB", (1000, 3)), 100).size == (100, 1)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=4096), suffix=st.sampled_from([".png", ".jpg", ".gif", ".webp", ".bin", ".txt"]))
def test_fuzzed_files_never_raise(tmp_path, data, suffix):
    path = tmp_path / f"upload{suffix}"
    path.write_bytes(data)
    found = read_uploads([str(path)])
    assert len(found.images) + len(found.texts) + len(found.problems) >= 1
    assert len(found.images) + len(found.texts) <= 1


def test_truncated_real_png_is_refused(tmp_path):
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (1, 2, 3)).save(buffer, format="PNG")
    (tmp_path / "cut.png").write_bytes(buffer.getvalue()[:-30])
    found = read_uploads([str(tmp_path / "cut.png")])
    assert found.images == [] and "not a usable image" in found.problems[0]
