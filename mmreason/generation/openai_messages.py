"""HF chat messages → OpenAI chat messages, images as data URIs (encoded PNG/JPEG bytes sent as they are, other
images as PNG), video files as data URIs (vLLM's `video_url` parts)."""

from __future__ import annotations

import base64
import io
import mimetypes
import os
from pathlib import Path
from typing import Any

from PIL import Image

from ..model.image_io import DEFAULT_MAX_IMAGE_PIXELS, load_rgb
from .errors import UnsupportedRequest
from .videos import is_video_file

#: the encoded formats sent as they are, and their MIME types
PASS_THROUGH = {"PNG": "image/png", "JPEG": "image/jpeg"}
_ORIENTATION = 0x0112


def image_data_uri(image: Any) -> str:
    """A data URI for an image given as PIL, bytes, a path or a `datasets` dict.

    Encoded bytes (bytes, a `datasets` dict's `bytes`, a file) that are already a PNG or JPEG the server reads as
    [`load_rgb`] would — RGB or grayscale, no EXIF rotation, within `DEFAULT_MAX_IMAGE_PIXELS` (read from the
    header; nothing is decoded) — are sent byte for byte. Everything else (PIL images, other formats, alpha,
    palettes, rotated JPEGs) is decoded with [`load_rgb`] and sent as PNG.
    """
    raw = encoded_bytes(image)
    mime = None if raw is None else pass_through_mime(raw)
    if raw is not None and mime is not None:
        return f"data:{mime};base64," + base64.b64encode(raw).decode()
    rgb = load_rgb(image)
    buffer = io.BytesIO()
    rgb.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def encoded_bytes(image: Any) -> bytes | None:
    """The encoded bytes of an image given as bytes, a `datasets` dict or a file path (`None`: other sources)."""
    if isinstance(image, bytes | bytearray):
        return bytes(image)
    if isinstance(image, dict):
        if image.get("bytes"):
            return bytes(image["bytes"])
        image = image.get("path")
    if isinstance(image, str | os.PathLike):
        try:  # a data URI, URL or base64 string is no file (and may be too long a name to ask about)
            return Path(image).read_bytes() if Path(image).is_file() else None
        except OSError:
            return None
    return None


def pass_through_mime(raw: bytes) -> str | None:
    """The MIME type of encoded bytes a server may take as they are (see [`image_data_uri`]), else `None`."""
    if not (raw.startswith(b"\x89PNG\r\n\x1a\n") or raw.startswith(b"\xff\xd8\xff")):
        return None
    try:
        with Image.open(io.BytesIO(raw)) as header:
            width, height = header.size
            plain = header.mode in ("RGB", "L") and header.format in PASS_THROUGH
            upright = header.getexif().get(_ORIENTATION, 1) == 1
            fmt = header.format
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    if not plain or not upright or width * height > DEFAULT_MAX_IMAGE_PIXELS or not width * height:
        return None
    return PASS_THROUGH[fmt]


def video_data_uri(video: Any) -> str:
    """A data URI of a video file (a server decodes it itself); frames cannot be sent as a video."""
    if not is_video_file(video):
        raise UnsupportedRequest(
            "an OpenAI-compatible server takes videos as files: give the video part a path, not decoded frames"
        )
    mime = mimetypes.guess_type(str(video))[0] or "video/mp4"
    return f"data:{mime};base64," + base64.b64encode(Path(video).read_bytes()).decode()


def to_openai_messages(conversation: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """HF chat messages → OpenAI chat messages (`image_url` / `video_url` parts with data URIs)."""
    messages = []
    for message in conversation:
        content = message["content"]
        if isinstance(content, str):
            messages.append({"role": message["role"], "content": content})
            continue
        parts = []
        for part in content:
            if part["type"] == "image":
                parts.append({"type": "image_url", "image_url": {"url": image_data_uri(part["image"])}})
            elif part["type"] == "video":
                parts.append({"type": "video_url", "video_url": {"url": video_data_uri(part["video"])}})
            elif part["type"] == "text":
                parts.append({"type": "text", "text": part.get("text") or ""})
        messages.append({"role": message["role"], "content": parts})
    return messages


__all__ = [
    "PASS_THROUGH",
    "encoded_bytes",
    "image_data_uri",
    "pass_through_mime",
    "to_openai_messages",
    "video_data_uri",
]
