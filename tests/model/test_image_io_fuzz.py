"""Fuzzing the image inspector and loader: whatever the input, only `ImageError`s, never a hang, and the inspector
predicts the loader (`inspect_image(check="full")` succeeds exactly when `load_rgb` does, with the same size).

Inputs: random bytes, real images in random modes/formats/sizes (hand-written PNG headers for 0-size and invalid
bit depths), cut at random offsets or with a random byte changed, given as bytes, `datasets` dicts, files, base64
(padded or not, URL-safe), data URIs and lazily opened PIL images; and random strings.
"""

import base64
import io
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from mmreason.model.image_io import ImageError, inspect_image, load_rgb

from . import png_bytes

MODES_BY_FORMAT = {
    "PNG": ["1", "L", "LA", "P", "RGB", "RGBA", "I;16"],
    "JPEG": ["L", "RGB", "CMYK"],
    "WEBP": ["RGB", "RGBA"],
    "GIF": ["P", "L"],
    "BMP": ["1", "L", "P", "RGB"],
    "TIFF": ["1", "L", "RGB", "RGBA", "CMYK", "I;16", "I", "F"],
    "PPM": ["1", "L", "RGB", "I;16"],
}
SECONDS_PER_INPUT = 2.0


@st.composite
def pillow_images(draw) -> bytes:
    fmt = draw(st.sampled_from(sorted(MODES_BY_FORMAT)))
    mode = draw(st.sampled_from(MODES_BY_FORMAT[fmt]))
    size = (draw(st.integers(1, 80)), draw(st.integers(1, 80)))
    seed = draw(st.integers(0, 255))
    image = Image.new(mode, size, seed if mode not in ("RGB", "RGBA", "CMYK", "LA") else None)
    if mode in ("RGB", "RGBA", "LA", "CMYK"):
        image.putpixel((0, 0), (seed,) * len(mode))
    options = {"progressive": True} if fmt == "JPEG" and seed % 2 else {}
    if fmt in ("JPEG", "PNG", "WEBP", "TIFF") and seed % 3 == 0:
        options["exif"] = Image.Exif()
        options["exif"][0x0112] = seed % 8 + 1  # EXIF orientation
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


handmade_pngs = st.builds(
    png_bytes.png,
    st.integers(0, 6),
    st.integers(0, 6),
    st.sampled_from([png_bytes.GRAY, png_bytes.RGB, png_bytes.PALETTE, png_bytes.GRAY_ALPHA, png_bytes.RGBA, 1, 7]),
    st.sampled_from([1, 2, 4, 8, 16, 3]),
)


@st.composite
def damaged(draw, images) -> bytes:
    data = draw(images)
    how = draw(st.sampled_from(["whole", "cut", "byte"]))
    if how == "cut":
        return data[: draw(st.integers(0, len(data)))]
    if how == "byte" and data:
        at = draw(st.integers(0, len(data) - 1))
        return data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]
    return data


payloads = st.one_of(st.binary(max_size=600), damaged(pillow_images()), damaged(handmade_pngs))


def _wrap(data: bytes, wrapper: str, folder) -> object:
    if wrapper == "dict":
        return {"bytes": data, "path": "x.png"}
    if wrapper == "base64":
        return base64.b64encode(data).decode()
    if wrapper == "base64_urlsafe_unpadded":
        return base64.urlsafe_b64encode(data).decode().rstrip("=")
    if wrapper == "data_uri":
        return "data:image/png;base64," + base64.b64encode(data).decode()
    if wrapper == "path":
        path = folder / f"{hash(data) & 0xFFFFFFFF:08x}.img"
        path.write_bytes(data)
        return str(path)
    if wrapper == "pil":
        try:
            return Image.open(io.BytesIO(data))
        except Exception:
            return data  # the caller's own open failed: nothing for the loader to do with it
    return data


def _outcome(call, *args):
    start = time.perf_counter()
    try:
        return call(*args)
    except ImageError as error:
        return error
    finally:
        assert time.perf_counter() - start < SECONDS_PER_INPUT, "image check took too long"


def _check_consistent(source_factory, max_pixels):
    header = _outcome(inspect_image, source_factory(), max_pixels, "header")
    full = _outcome(inspect_image, source_factory(), max_pixels, "full")
    rgb = _outcome(load_rgb, source_factory(), max_pixels)
    assert isinstance(rgb, ImageError) == isinstance(full, ImageError), (full, rgb)
    if isinstance(header, ImageError):
        assert isinstance(full, ImageError)
    if not isinstance(rgb, ImageError):
        assert rgb.mode == "RGB" and rgb.size == (full.width, full.height) == (header.width, header.height)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


WRAPPERS = ["bytes", "dict", "base64", "base64_urlsafe_unpadded", "data_uri", "path", "pil"]


@pytest.mark.timeout(60)
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=payloads,
    wrapper=st.sampled_from(WRAPPERS),
    max_pixels=st.one_of(st.none(), st.integers(0, 8000)),
)
def test_any_bytes_in_any_wrapper_give_an_image_or_an_image_error(folder, data, wrapper, max_pixels):
    _check_consistent(lambda: _wrap(data, wrapper, folder), max_pixels)


@pytest.mark.timeout(60)
@settings(max_examples=150, deadline=None)
@given(text=st.one_of(st.text(max_size=300), st.from_regex(r"data:[a-z/]{0,12}(;base64)?,[A-Za-z0-9+/=%]{0,40}")))
def test_any_string_gives_an_image_or_an_image_error(text):
    _check_consistent(lambda: text, None)
