"""The image inspector and loader: every source type gets the same checks, before any pixel is decoded.

References are hand-written PNGs (`png_bytes`: the header says the size and mode, the pixel values are known) and
hand-computed pixels (white where transparent, the high byte of 16-bit RGB samples).
"""

import base64
import functools
import http.server
import io
import threading

import numpy as np
import pytest
from PIL import Image, ImageFile

from mmreason.model.image_io import (
    CorruptImageError,
    ImageError,
    ImageInfo,
    ImageNotFoundError,
    ImageTooLargeError,
    UnsupportedImageModeError,
    inspect_image,
    load_rgb,
)
from mmreason.testing import make_image

from . import png_bytes


def _encoded(image: Image.Image, fmt: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A local HTTP server on 127.0.0.1 serving a temporary folder (never the network)."""
    root = tmp_path_factory.mktemp("www")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _sources(data: bytes, tmp_path, server, name: str) -> dict:
    """The same bytes as every source type the loader takes."""
    root, url = server
    (root / name).write_bytes(data)
    path = tmp_path / name
    path.write_bytes(data)
    return {
        "bytes": data,
        "dict": {"bytes": data, "path": name},
        "path": str(path),
        "dict_path": {"bytes": None, "path": str(path)},
        "base64": _b64(data),
        "data_uri": "data:image/png;base64," + _b64(data),
        "url": f"{url}/{name}",
    }


TRUNCATED = {
    "png": _encoded(make_image(300, 200, seed=1), "PNG"),
    "jpeg": _encoded(make_image(300, 200, seed=2), "JPEG", quality=90),
    "progressive_jpeg": _encoded(make_image(300, 200, seed=3), "JPEG", progressive=True),
}


@pytest.mark.parametrize("kind", sorted(TRUNCATED))
@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_truncated_body_with_a_valid_header_is_caught_by_the_default_check(kind, cut):
    data = TRUNCATED[kind][: int(len(TRUNCATED[kind]) * cut)]
    assert inspect_image(data, check="header") == ImageInfo(300, 200, "RGB", "PNG" if kind == "png" else "JPEG")
    with pytest.raises(CorruptImageError, match="truncated"):
        inspect_image(data)  # default: full
    with pytest.raises(CorruptImageError):
        load_rgb(data)
    assert inspect_image(TRUNCATED[kind]).width == 300  # the whole file is fine


def test_info_is_read_from_the_header():
    assert inspect_image(png_bytes.png(7, 5, png_bytes.GRAY, 8)) == ImageInfo(7, 5, "L", "PNG")
    assert inspect_image(png_bytes.png(7, 5, png_bytes.RGBA, 8), check="header") == ImageInfo(7, 5, "RGBA", "PNG")
    with pytest.raises(ValueError, match="check must be one of"):
        inspect_image(png_bytes.png(7, 5, png_bytes.GRAY, 8), check="decode")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "TIFF", "WEBP"])
def test_exif_orientation_swaps_the_size_in_both_checks(fmt):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees to display
    data = _encoded(make_image(300, 100, seed=4), fmt, exif=exif)
    for check in ("header", "full"):
        info = inspect_image(data, check=check)
        assert (info.width, info.height) == (100, 300)
    assert load_rgb(data).size == (100, 300)
    given = Image.open(io.BytesIO(data))  # a PIL image is taken as it is, by the loader and the inspector alike
    as_given = given.size  # (300, 100), except TIFF: Pillow's plugin turns it itself
    assert load_rgb(given).size == as_given
    info = inspect_image(Image.open(io.BytesIO(data)))
    assert (info.width, info.height) == as_given


@pytest.mark.parametrize("source", ["bytes", "dict", "path", "dict_path", "base64", "data_uri", "url"])
def test_16_bit_and_float_are_refused_from_every_source(source, tmp_path, server):
    gray16 = _sources(png_bytes.gray16(6, 4, 40_000), tmp_path, server, "gray16.png")[source]
    for check in ("header", "full"):
        with pytest.raises(UnsupportedImageModeError, match="I;16"):
            inspect_image(gray16, check=check)
    with pytest.raises(UnsupportedImageModeError, match="I;16"):
        load_rgb(gray16)  # Pillow's convert("RGB") would give 255 (clipped) for 40000


def test_float_and_32_bit_modes_are_refused():
    for mode in ("F", "I", "I;16B"):
        with pytest.raises(UnsupportedImageModeError, match=mode):
            inspect_image(_encoded(Image.new(mode, (8, 8)), "TIFF"))


def test_16_bit_rgb_keeps_the_high_byte():
    rgb = load_rgb(png_bytes.rgb16(3, 2, (0x1234, 0xFF00, 0x00FF)))
    assert rgb.mode == "RGB" and np.array(rgb).reshape(-1, 3).tolist() == [[0x12, 0xFF, 0x00]] * 6


@pytest.mark.parametrize("source", ["bytes", "dict", "path", "dict_path", "base64", "data_uri", "url"])
def test_transparency_is_white_from_every_source(source, tmp_path, server):
    data = png_bytes.rgba8([(0, 0, 0, 0), (10, 20, 30, 255), (200, 0, 0, 0)])
    rgb = load_rgb(_sources(data, tmp_path, server, "alpha.png")[source])
    assert np.array(rgb)[0].tolist() == [[255, 255, 255], [10, 20, 30], [255, 255, 255]]


@pytest.fixture
def no_decoding(monkeypatch):
    """Fail the test if any pixel is decoded."""
    decoded = []

    def load(self, *args, **kwargs):
        decoded.append(self.size)
        raise AssertionError("pixels decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    yield decoded
    assert decoded == []


@pytest.mark.parametrize("source", ["bytes", "dict", "path", "dict_path", "base64", "data_uri", "url"])
def test_decompression_bomb_is_refused_from_the_header_for_every_source(source, tmp_path, server, no_decoding):
    bomb = png_bytes.bomb(10_000)  # 12 KB -> 100M pixels: over our cap, under Pillow's own error threshold
    given = _sources(bomb, tmp_path, server, "bomb.png")[source]
    for check in ("header", "full"):
        with pytest.raises(ImageTooLargeError, match="100,000,000 pixels"):
            inspect_image(given, check=check)
    with pytest.raises(ImageTooLargeError, match="100,000,000 pixels"):
        load_rgb(given)
    with pytest.raises(ImageTooLargeError, match="10,000 pixels"):
        load_rgb(_sources(png_bytes.png(200, 50, png_bytes.GRAY, 8), tmp_path, server, "small.png")[source], 5_000)


def test_huge_bomb_refused_by_pillows_own_guard_is_an_image_error(no_decoding):
    with pytest.raises(ImageTooLargeError):
        load_rgb("data:image/png;base64," + _b64(png_bytes.bomb(20_000)))  # 400M pixels, 49 KB


def test_short_base64_is_an_image_not_a_path(tmp_path):
    data = png_bytes.png(1, 1, png_bytes.RGB, 8, bytes([9, 8, 7]))
    encoded = _b64(data)
    assert len(encoded) <= 256
    assert np.array(load_rgb(encoded)).tolist() == [[[9, 8, 7]]]
    assert np.array(load_rgb(encoded.rstrip("="))).tolist() == [[[9, 8, 7]]]  # padding is optional
    with pytest.raises(ImageNotFoundError, match="not found"):
        load_rgb("abcd")  # valid base64, but not of an image: a missing file
    with pytest.raises(ImageNotFoundError, match=r"missing\.png"):
        load_rgb(str(tmp_path / "missing.png"))
    named_like_base64 = tmp_path / "abcd"
    named_like_base64.write_bytes(data)
    assert load_rgb(str(named_like_base64)).size == (1, 1)  # an existing file is a path


def test_urls_and_data_uris_report_errors_as_image_errors(server):
    _, url = server
    with pytest.raises(CorruptImageError, match="Cannot download"):
        load_rgb(f"{url}/nothing-here.png")
    with pytest.raises(CorruptImageError, match="base64"):
        load_rgb("data:image/png;base64,***")
    with pytest.raises(CorruptImageError, match="without a ','"):
        load_rgb("data:image/png;base64")
    plain = "data:image/png," + "".join(f"%{b:02x}" for b in png_bytes.png(2, 1, png_bytes.GRAY, 8, b"\x05\x06"))
    assert np.array(load_rgb(plain)).tolist() == [[[5, 5, 5], [6, 6, 6]]]  # percent-encoded data URI


def test_errors_are_deterministic_and_name_no_memory_address():
    with pytest.raises(CorruptImageError) as info:
        load_rgb(b"definitely not an image")
    assert " at 0x" not in str(info.value) and isinstance(info.value, ImageError)


def test_lazily_opened_truncated_pil_image_is_an_image_error():
    lazy = Image.open(io.BytesIO(TRUNCATED["png"][:2000]))
    with pytest.raises(CorruptImageError):
        inspect_image(lazy)
    with pytest.raises(CorruptImageError):
        load_rgb(Image.open(io.BytesIO(TRUNCATED["png"][:2000])))


def test_a_callers_pil_image_is_not_shrunk_by_the_check():
    lazy = Image.open(io.BytesIO(TRUNCATED["jpeg"]))
    assert inspect_image(lazy) == ImageInfo(300, 200, "RGB", "JPEG")
    assert lazy.size == (300, 200) and lazy.load() is not None and lazy.size == (300, 200)


# A little-endian raw TIFF (found by the fuzz test): ImageWidth 1, ImageLength 2, 8-bit grey, Orientation 8
# (rotate 90), so it is displayed 2 wide x 1 tall.
ROTATED_RAW_TIFF = bytes.fromhex(
    "49492a00080000000a0000010400010000000100000001010400010000000200000002010300010000000800000003010300"
    "0100000001000000060103000100000001000000110104000100000086000000120103000100000008000000160104000100"
    "0000020000001701040001000000020000001c0103000100000001000000000000000f0f"
)


def test_uncompressed_tiff_by_path_is_oriented_like_every_other_source(tmp_path):
    """Pillow 13 memory-maps a raw TIFF opened by path and then returns the stored 1x2 pixels, tag dropped."""
    from mmreason.model.image_io import inspect_image, load_rgb

    path = tmp_path / "rotated.tif"
    path.write_bytes(ROTATED_RAW_TIFF)
    for source in (str(path), ROTATED_RAW_TIFF):
        assert (inspect_image(source, None).width, inspect_image(source, None).height) == (2, 1)
        assert load_rgb(source, None).size == (2, 1)
