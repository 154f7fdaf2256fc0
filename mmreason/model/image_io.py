"""Opening and checking images: one inspector and one loader for paths, bytes, base64, data URIs, URLs, arrays and PIL.

Every source type goes the same way: it is resolved to bytes or a file (never through a decoder that skips the
checks), its header is read, and only then are the pixels decoded:

1. resolve: `datasets` dicts (`{"bytes", "path"}`), bytes, paths, `data:` URIs, `http(s)://` URLs and raw base64
   strings (told apart from paths by content: an existing file is a path; a string that is valid base64 *and*
   decodes to something Pillow identifies as an image is an image; anything else is a missing file);
2. header: size (after EXIF orientation) against `max_pixels` and mode against the modes with a faithful RGB
   conversion, before a single pixel is decoded (a decompression bomb is never decoded, whatever its source);
3. decode (`check="full"`, the default): the whole body, so a truncated file with a valid header fails here and not
   later in a collator or in `datasets` decoding.

[`inspect_image`] stops there and returns an [`ImageInfo`]; [`load_rgb`] goes on to an RGB image with transparency
composited onto white (the transformers convention). Every failure is a subclass of `ImageError` (a `ValueError`)
naming the source, so a data job can report the sample and go on:

* `CorruptImageError`: truncated, undecodable or not an image (`ImageNotFoundError`: no such file);
* `ImageTooLargeError`: more pixels than `max_pixels`;
* `UnsupportedImageModeError`: 16-bit, 32-bit integer and float pixels (`I;16*`, `I`, `F`, ...) and other modes
  without a faithful RGB conversion. They are refused, not converted: mapping them to 8 bits needs a windowing
  choice (Pillow's `convert("RGB")` clips everything above 255 to white) that only the data's owner can make.
  16-bit RGB(A) PNGs are fine: Pillow reads them as 8-bit RGB(A) (the high byte of each sample).
"""

from __future__ import annotations

import base64
import binascii
import io
import os
import re
import urllib.parse
import urllib.request
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from PIL import Image, ImageOps

# Pillow's own warning threshold; we turn it into an error.
DEFAULT_MAX_IMAGE_PIXELS = 89_478_485
RGB_CONVERTIBLE_MODES = frozenset({"1", "L", "LA", "La", "P", "PA", "RGB", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr"})
IMAGE_CHECKS = ("full", "header")
URL_TIMEOUT_S = 10.0
MAX_DOWNLOAD_BYTES = 256 * 2**20
_ORIENTATION = 0x0112
_ORIENTED_ON_OPEN = frozenset({"TIFF"})  # Pillow's TIFF plugin reports the displayed size and transposes on load
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")
_OBJECT_REPR = re.compile(r"<[\w.]+ object at 0x[0-9a-fA-F]+>")

ImageCheck = Literal["full", "header"]


class ImageError(ValueError):
    """An image that cannot be used; `source` says which one."""

    def __init__(self, message: str, source: Any = None):
        super().__init__(message)
        self.source = source


class CorruptImageError(ImageError):
    """Missing, truncated or undecodable image file."""


class ImageNotFoundError(CorruptImageError):
    """A path that is not a file (and a string that is neither a URL, a data URI nor base64 of an image)."""


class ImageTooLargeError(ImageError):
    """Image with more pixels than allowed (decompression-bomb guard)."""


class UnsupportedImageModeError(ImageError):
    """Pixel format without a faithful RGB conversion."""


@dataclass(frozen=True)
class ImageInfo:
    """What [`inspect_image`] found: the size as displayed (after EXIF orientation), the mode and the format."""

    width: int
    height: int
    mode: str
    format: str | None = None


def _reason(err: BaseException) -> str:
    """The error's message, deterministic: Pillow names in-memory files by their address."""
    return _OBJECT_REPR.sub("the data", str(err)) or type(err).__name__


def _describe(source: Any) -> str:
    if isinstance(source, (str, os.PathLike)):
        text = str(source)
        return text if len(text) <= 120 else f"{text[:60]}...({len(text)} characters)"
    if isinstance(source, dict) and source.get("path"):
        return str(source["path"])
    return f"<{type(source).__name__}>"


def check_size(image: Image.Image, max_pixels: int | None, source: Any = None) -> None:
    """Raise `ImageTooLargeError` above `max_pixels`, `CorruptImageError` for an empty image."""
    width, height = image.size
    if width < 1 or height < 1:
        raise CorruptImageError(f"Image {_describe(source)} is empty ({width}x{height}).", source)
    if max_pixels is not None and width * height > max_pixels:
        raise ImageTooLargeError(
            f"Image {_describe(source)} has {width}x{height} = {width * height:,} pixels, more than the allowed "
            f"{max_pixels:,} (possible decompression bomb). Raise `max_image_pixels` if it is legitimate.",
            source,
        )


def check_mode(image: Image.Image, source: Any = None) -> None:
    """Raise `UnsupportedImageModeError` for a mode without a faithful RGB conversion."""
    if image.mode not in RGB_CONVERTIBLE_MODES:
        raise UnsupportedImageModeError(
            f"Image {_describe(source)} has mode {image.mode!r}, which has no faithful RGB conversion; convert it "
            f"first (supported modes: {sorted(RGB_CONVERTIBLE_MODES)}).",
            source,
        )


def _b64decode(text: str) -> bytes | None:
    """Bytes of a (standard or URL-safe, padded or not) base64 string, `None` if it is not one."""
    text = "".join(text.split())
    if not text or _BASE64.fullmatch(text) is None:
        return None
    core = text.rstrip("=")
    if len(core) % 4 == 1:
        return None
    text = core + "=" * (-len(core) % 4)
    try:
        return base64.b64decode(text, altchars=b"-_" if "-" in text or "_" in text else None, validate=True)
    except (binascii.Error, ValueError):
        return None


def _is_image(data: bytes) -> bool:
    """Whether Pillow identifies `data` as an image (header only)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            Image.open(io.BytesIO(data)).close()
    except Image.DecompressionBombError:
        return True  # an image, refused later with the proper error
    except Exception:
        return False
    return True


def _fetch(url: str, source: Any) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=URL_TIMEOUT_S) as response:  # only http(s) reaches here
            data = response.read(MAX_DOWNLOAD_BYTES + 1)
    except Exception as err:
        raise CorruptImageError(f"Cannot download image {_describe(source)}: {_reason(err)}", source) from err
    if len(data) > MAX_DOWNLOAD_BYTES:
        raise ImageTooLargeError(f"Image {_describe(source)} is larger than {MAX_DOWNLOAD_BYTES:,} bytes.", source)
    return data


def _data_uri(uri: str, source: Any) -> bytes:
    header, comma, payload = uri[5:].partition(",")
    if not comma:
        raise CorruptImageError(f"Image {_describe(source)} is a data URI without a ',' before its data.", source)
    if header.split(";")[-1].strip().lower() != "base64":
        return urllib.parse.unquote_to_bytes(payload)
    data = _b64decode(payload)
    if data is None:
        raise CorruptImageError(f"Image {_describe(source)} is a data URI whose base64 payload is invalid.", source)
    return data


def resolve_source(source: Any) -> bytes | str | Image.Image:
    """The bytes, the file path or the PIL image behind `source` (downloads URLs, decodes base64/data URIs)."""
    if isinstance(source, Image.Image):
        return source
    if isinstance(source, dict):
        data, path = source.get("bytes"), source.get("path")
        if not data and not path:
            raise CorruptImageError("Image dict has neither 'bytes' nor 'path'.", source)
        return bytes(data) if data else resolve_source(path)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if isinstance(source, os.PathLike):
        source = os.fspath(source)
    if not isinstance(source, str):
        raise CorruptImageError(f"Cannot open an image from {type(source).__name__}.", source)
    if source.startswith("data:"):
        return _data_uri(source, source)
    if source.startswith(("http://", "https://")):
        return _fetch(source, source)
    if os.path.isfile(source):
        return source
    data = _b64decode(source)
    if data is not None and _is_image(data):
        return data
    raise ImageNotFoundError(
        f"Image file not found: {_describe(source)} (nor is it a URL, a data URI or base64 of an image).", source
    )


def _open_header(resolved: bytes | str | Image.Image, max_pixels: int | None, source: Any) -> Image.Image:
    """Open lazily (header only) and check size and mode; a PIL input is checked as it is."""
    if isinstance(resolved, Image.Image):
        image = resolved
    else:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # `check_size` below is the guard
                image = Image.open(io.BytesIO(resolved) if isinstance(resolved, bytes) else resolved)
        except Image.DecompressionBombError as err:  # over twice `PIL.Image.MAX_IMAGE_PIXELS`: Pillow's own guard
            raise ImageTooLargeError(
                f"Image {_describe(source)} is too large: {_reason(err)} (allowing it takes raising "
                "`PIL.Image.MAX_IMAGE_PIXELS` as well as `max_image_pixels`)",
                source,
            ) from err
        except Exception as err:  # Pillow's plugins raise OSError, SyntaxError, struct.error, EOFError, ...
            raise CorruptImageError(
                f"Image {_describe(source)} is corrupt or not an image: {_reason(err)}", source
            ) from err
    check_size(image, max_pixels, source)
    check_mode(image, source)
    if isinstance(resolved, str) and image.format in _ORIENTED_ON_OPEN:
        # Pillow memory-maps an uncompressed TIFF opened by path, and then neither turns its pixels by the EXIF
        # orientation nor keeps the tag (13.0); read from bytes, where it turns them as it does for every other
        # source (the size was checked above, from the header)
        image.close()
        with open(resolved, "rb") as f:
            image = Image.open(io.BytesIO(f.read()))
    return image


def _decode(image: Image.Image, source: Any, reduce: bool = False) -> None:
    """Decode every pixel (`reduce`: let a JPEG decode at 1/8 scale, which still reads the whole stream)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            if reduce and image.format == "JPEG":
                image.draft(image.mode, (1, 1))
            image.load()
    except Exception as err:  # truncated or corrupt body; MemoryError aside, nothing here is fatal to the job
        raise CorruptImageError(f"Image {_describe(source)} is corrupt or truncated: {_reason(err)}", source) from err


def _orientation(image: Image.Image, decoded: bool) -> int:
    """EXIF orientation (1 = upright); without decoding only where the EXIF comes with the header."""
    try:
        if not decoded and image.format in _ORIENTED_ON_OPEN:
            return 1  # the header size is already as displayed; the decoder turns the pixels and drops the tag
        if not decoded and image.format == "PNG" and "exif" not in image.info:
            return 1  # an eXIf chunk after the pixel data is only seen by a full decode
        return int(image.getexif().get(_ORIENTATION, 1) or 1)
    except Exception:
        return 1  # unreadable EXIF: shown as stored, as Pillow's `exif_transpose` would


def inspect_image(
    source: Any, max_pixels: int | None = DEFAULT_MAX_IMAGE_PIXELS, check: ImageCheck = "full"
) -> ImageInfo:
    """Check an image the way [`load_rgb`] will read it, without keeping the pixels.

    Args:
        source: a path, bytes, a `datasets` dict, a data URI, a URL, a base64 string or a PIL image.
        max_pixels: refuse images with more pixels (read from the header, before decoding); `None`: no limit.
        check: `"full"` (default) also decodes the body, which catches truncated and corrupt files (JPEGs are
            decoded at 1/8 scale: the whole stream is still read); `"header"` reads the header only.

    Raises:
        `CorruptImageError`, `ImageTooLargeError` or `UnsupportedImageModeError` (all `ImageError`).
    """
    if check not in IMAGE_CHECKS:
        raise ValueError(f"check must be one of {IMAGE_CHECKS}, not {check!r}")
    resolved = resolve_source(source)
    image = _open_header(resolved, max_pixels, source)
    try:
        (width, height), mode, fmt = image.size, image.mode, image.format
        if check == "full":
            _decode(image, source, reduce=image is not resolved)  # never shrink a caller's PIL image
        given_pixels = image is resolved  # a PIL input is used as it is, never re-oriented (see `open_image`)
        if not given_pixels and _orientation(image, decoded=check == "full") in (5, 6, 7, 8):
            width, height = height, width
        return ImageInfo(width, height, mode, fmt)
    finally:
        if image is not resolved:
            image.close()


def open_image(source: Any, max_pixels: int | None = DEFAULT_MAX_IMAGE_PIXELS) -> Image.Image:
    """Any supported source (see [`inspect_image`]) -> fully decoded PIL image in its own mode, EXIF-oriented.

    The size and mode are checked from the header before any pixel is decoded.
    """
    resolved = resolve_source(source)
    image = _open_header(resolved, max_pixels, source)
    _decode(image, source)
    if isinstance(resolved, Image.Image):
        return image  # given as pixels: shown as they are
    try:
        if _orientation(image, decoded=True) != 1:
            image = ImageOps.exif_transpose(image)  # as transformers' `load_image` and `datasets.Image` do
    except Exception as err:
        raise CorruptImageError(
            f"Image {_describe(source)} has unusable EXIF orientation: {_reason(err)}", source
        ) from err
    return image


def array_to_pil(array: Any) -> Image.Image | None:
    """Convert a uint8 array/tensor (HWC or CHW, 1/3/4 channels) to PIL; `None` when not exactly representable."""
    if hasattr(array, "detach"):
        array = array.detach().cpu().numpy()
    array = np.asarray(array)
    if array.dtype != np.uint8 or array.ndim not in (2, 3):
        return None
    if array.ndim == 3 and array.shape[0] in (1, 3, 4) and array.shape[-1] in (1, 3, 4):
        return None  # channel axis ambiguous: the stock path infers it (and honours `input_data_format`)
    if array.ndim == 3 and array.shape[-1] not in (1, 3, 4) and array.shape[0] in (1, 3, 4):
        array = np.moveaxis(array, 0, -1)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim == 3 and array.shape[-1] not in (3, 4):
        return None
    if array.size == 0:
        raise CorruptImageError(f"Image array is empty (shape {array.shape}).", None)
    return Image.fromarray(np.ascontiguousarray(array))


def to_rgb(image: Image.Image, source: Any = None) -> Image.Image:
    """RGB copy of `image`; transparency is composited onto white (the transformers convention)."""
    check_mode(image, source)
    try:
        if "A" in image.getbands() or image.info.get("transparency") is not None:
            rgba = image.convert("RGBA")
            return Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba).convert("RGB")
        return image if image.mode == "RGB" else image.convert("RGB")
    except ImageError:
        raise
    except Exception as err:  # a lazily opened PIL input whose body is broken
        raise CorruptImageError(
            f"Image {_describe(source)} cannot be converted to RGB: {_reason(err)}", source
        ) from err


def load_rgb(source: Any, max_pixels: int | None = DEFAULT_MAX_IMAGE_PIXELS) -> Image.Image | None:
    """Any supported image input -> checked RGB PIL image; `None` for arrays that are not uint8."""
    if isinstance(source, np.ndarray) or hasattr(source, "detach"):
        pil = array_to_pil(source)
        if pil is None:
            return None
        check_size(pil, max_pixels, source)
        return to_rgb(pil, source)
    return to_rgb(open_image(source, max_pixels), source)


__all__ = [
    "DEFAULT_MAX_IMAGE_PIXELS",
    "IMAGE_CHECKS",
    "CorruptImageError",
    "ImageError",
    "ImageInfo",
    "ImageNotFoundError",
    "ImageTooLargeError",
    "UnsupportedImageModeError",
    "array_to_pil",
    "check_mode",
    "check_size",
    "inspect_image",
    "load_rgb",
    "open_image",
    "resolve_source",
    "to_rgb",
]
