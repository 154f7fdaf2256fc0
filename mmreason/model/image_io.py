"""Opening and checking images: one place that turns paths, bytes, arrays and PIL images into RGB PIL images.

Every failure is a subclass of `ImageError` (a `ValueError`) that names the offending source, so a data job can
report the sample and go on instead of dying on a worker with a bare PIL traceback:

* `CorruptImageError`: the file is missing, truncated or not an image;
* `ImageTooLargeError`: more pixels than `max_pixels` (decompression bombs are refused before decoding);
* `UnsupportedImageModeError`: a pixel format that has no faithful RGB conversion (16-bit, float, ...).
"""

from __future__ import annotations

import io
import os
import re
import warnings
from typing import Any

import numpy as np
from PIL import Image, ImageOps

# Pillow's own warning threshold; we turn it into an error.
DEFAULT_MAX_IMAGE_PIXELS = 89_478_485
RGB_CONVERTIBLE_MODES = frozenset({"1", "L", "LA", "La", "P", "PA", "RGB", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr"})


class ImageError(ValueError):
    """An image that cannot be used; `source` says which one."""

    def __init__(self, message: str, source: Any = None):
        super().__init__(message)
        self.source = source


class CorruptImageError(ImageError):
    """Missing, truncated or undecodable image file."""


class ImageTooLargeError(ImageError):
    """Image with more pixels than allowed (decompression-bomb guard)."""


class UnsupportedImageModeError(ImageError):
    """Pixel format without a faithful RGB conversion."""


def _looks_base64(text: str) -> bool:
    return len(text) > 256 and not os.path.exists(text) and re.fullmatch(r"[A-Za-z0-9+/=\s]+", text) is not None


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


def open_image(source: Any, max_pixels: int | None = DEFAULT_MAX_IMAGE_PIXELS) -> Image.Image:
    """Open a path, raw bytes, a `datasets` image dict (`{"bytes", "path"}`) or a PIL image, fully decoded.

    The size is checked from the header before any pixel is decoded.
    """
    if isinstance(source, Image.Image):
        check_size(source, max_pixels, source)
        return source
    if isinstance(source, dict):
        data, path = source.get("bytes"), source.get("path")
        if data is None and not path:
            raise CorruptImageError("Image dict has neither 'bytes' nor 'path'.", source)
        return open_image(data if data is not None else path, max_pixels)
    if isinstance(source, str) and (source.startswith(("http://", "https://", "data:")) or _looks_base64(source)):
        from transformers.image_utils import load_image  # URLs, data URIs and base64, as transformers reads them

        try:
            return open_image(load_image(source), max_pixels)
        except ImageError:
            raise
        except Exception as err:
            raise CorruptImageError(f"Cannot load image {_describe(source)}: {err}", source) from err
    if isinstance(source, (bytes, bytearray)):
        fp: Any = io.BytesIO(source)
    elif isinstance(source, (str, os.PathLike)):
        if not os.path.isfile(source):
            raise CorruptImageError(f"Image file not found: {source}", source)
        fp = source
    else:
        raise CorruptImageError(f"Cannot open an image from {type(source).__name__}.", source)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # `check_size` below is the guard
            image = Image.open(fp)
            check_size(image, max_pixels, source)
            image.load()
        image = ImageOps.exif_transpose(image)  # as transformers' `load_image` and `datasets.Image` do
    except ImageError:
        raise
    except Image.DecompressionBombError as err:
        raise ImageTooLargeError(f"Image {_describe(source)} is too large: {err}", source) from err
    except (OSError, SyntaxError, ValueError) as err:
        raise CorruptImageError(f"Image {_describe(source)} is corrupt or not an image: {err}", source) from err
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
    return Image.fromarray(np.ascontiguousarray(array))


def to_rgb(image: Image.Image, source: Any = None) -> Image.Image:
    """RGB copy of `image`; transparency is composited onto white (the transformers convention)."""
    if image.mode not in RGB_CONVERTIBLE_MODES:
        raise UnsupportedImageModeError(
            f"Image {_describe(source)} has mode {image.mode!r}, which has no faithful RGB conversion; convert it "
            f"first (supported modes: {sorted(RGB_CONVERTIBLE_MODES)}).",
            source,
        )
    if "A" in image.getbands() or image.info.get("transparency") is not None:
        rgba = image.convert("RGBA")
        return Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba).convert("RGB")
    return image if image.mode == "RGB" else image.convert("RGB")


def load_rgb(source: Any, max_pixels: int | None = DEFAULT_MAX_IMAGE_PIXELS) -> Image.Image | None:
    """Any supported image input -> checked RGB PIL image; `None` for arrays that are not uint8."""
    if isinstance(source, (np.ndarray,)) or hasattr(source, "detach"):
        pil = array_to_pil(source)
        if pil is None:
            return None
        check_size(pil, max_pixels, source)
        return to_rgb(pil, source)
    return to_rgb(open_image(source, max_pixels), source)


__all__ = [
    "DEFAULT_MAX_IMAGE_PIXELS",
    "CorruptImageError",
    "ImageError",
    "ImageTooLargeError",
    "UnsupportedImageModeError",
    "array_to_pil",
    "check_size",
    "load_rgb",
    "open_image",
    "to_rgb",
]
