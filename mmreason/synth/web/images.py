"""Image localisation for mined QA items: image bytes → a stored PNG, or the reason it was dropped
([`decode_image`], [`ImageRules`]).

The seed's `qa_aggregator.py` rules: SVG is rendered to PNG; animated GIFs are dropped and static ones converted;
inline base64 images must be over 100 bytes; the size rule is `width >= 100 or height >= 100` for downloaded
images and `width >= 100 and height >= 100` for base64 ones. Added here: a pixel cap checked from the header
before any pixel is decoded (a decompression bomb is refused, not decoded), truncated and undecodable files
refused, every animated format (APNG, WebP) dropped like GIFs, and SVG rendered by resvg (no system library)
at most `max_svg_side` pixels wide or high, after removing every external reference (an SVG `<image href=
"file:///...">` cannot pull local files into the dataset).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

SVG_TYPES = ("image/svg+xml",)
MIN_BASE64_BYTES = 100


class ImageRefused(ValueError):
    """Image bytes that are not kept (the message is the reason)."""


@dataclass(frozen=True)
class ImageRules:
    """What an image must be to be kept.

    Attributes:
        min_px: the seed's 100 px (any side for downloaded images, both sides for inline ones).
        max_pixels: width * height cap, read from the header before decoding.
        max_svg_side: SVG renders are scaled to fit this many pixels.
        max_per_item: images kept per question (and per solution).
    """

    min_px: int = 100
    max_pixels: int = 25_000_000
    max_svg_side: int = 2048
    max_per_item: int = 8


def data_uri_bytes(uri: str) -> bytes:
    """The payload of a `data:` URI (RFC 2397: base64 checked strictly, else percent-decoded)."""
    import base64
    import binascii
    from urllib.parse import unquote_to_bytes

    header, comma, payload = uri.partition(",")
    if not header.lower().startswith("data:") or not comma:
        raise ImageRefused("not a data: URI")
    if header.lower().endswith(";base64"):
        try:
            return base64.b64decode("".join(payload.split()), validate=True)
        except (binascii.Error, ValueError) as error:
            raise ImageRefused(f"malformed base64 in a data: URI ({error})") from error
    return unquote_to_bytes(payload)


def _svg_png(data: bytes, rules: ImageRules) -> bytes:
    import resvg_py
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as error:
        raise ImageRefused(f"SVG does not parse ({error})") from error
    if root is None or not str(root.tag).endswith("svg"):
        raise ImageRefused("not an SVG document")
    for element in root.iter():
        for name in list(element.attrib):
            if name.endswith("href") and not element.attrib[name].strip().startswith(("#", "data:")):
                del element.attrib[name]
    try:
        width, height = (float(str(root.get(side, "0")).rstrip("px") or 0) for side in ("width", "height"))
    except ValueError:
        width = height = 0.0
    size = {"width": rules.max_svg_side} if width >= height else {"height": rules.max_svg_side}
    if 0 < width <= rules.max_svg_side and 0 < height <= rules.max_svg_side:
        size = {}
    try:
        return bytes(resvg_py.svg_to_bytes(svg_string=etree.tostring(root).decode(), skip_system_fonts=False, **size))
    except (ValueError, RuntimeError) as error:
        raise ImageRefused(f"SVG does not render ({error})") from error


def decode_image(data: bytes, content_type: str = "", inline: bool = False, rules: ImageRules = ImageRules()) -> bytes:
    """The PNG bytes to store for an image, or [`ImageRefused`] with the reason.

    Args:
        data: the downloaded (or base64-decoded) bytes.
        content_type: the response's `Content-Type` (SVG is recognised by it or by its bytes).
        inline: a base64 image of the page (the seed's stricter rules).
        rules: the limits.
    """
    from PIL import Image, UnidentifiedImageError

    if inline and len(data) <= MIN_BASE64_BYTES:
        raise ImageRefused(f"inline image of {len(data)} bytes (at most {MIN_BASE64_BYTES})")
    head = data[:512].lstrip().lower()
    if (
        content_type.split(";")[0].strip().lower() in SVG_TYPES
        or head.startswith(b"<svg")
        or (head.startswith(b"<?xml") and b"<svg" in data[:4096].lower())
    ):
        data = _svg_png(data, rules)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > rules.max_pixels:
                raise ImageRefused(f"{width}x{height} pixels, over the {rules.max_pixels}-pixel cap (not decoded)")
            if getattr(image, "is_animated", False) or getattr(image, "n_frames", 1) > 1:
                raise ImageRefused(f"animated {image.format} dropped")
            image.load()
    except ImageRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageRefused(f"decompression bomb refused ({error})") from error
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as error:
        raise ImageRefused(f"not a decodable image ({type(error).__name__}: {str(error)[:120]})") from error
    small = min(width, height) < rules.min_px if inline else max(width, height) < rules.min_px
    if small:
        rule = "both sides" if inline else "one side"
        raise ImageRefused(f"{width}x{height} image, under {rules.min_px} px ({rule} must reach it)")
    if image.mode not in ("RGB", "RGBA", "L"):
        has_alpha = image.mode in ("LA", "PA") or (image.mode == "P" and "transparency" in image.info)
        image = image.convert("RGBA" if has_alpha else "RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


__all__ = ["ImageRefused", "ImageRules", "data_uri_bytes", "decode_image"]
