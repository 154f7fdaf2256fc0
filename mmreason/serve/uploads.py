"""Untrusted chat uploads -> images the processor can take, or one clear message per refused file.

A public demo receives whatever users drop: huge files, decompression bombs (a small PNG that decodes to billions
of pixels), truncated or corrupt files, things that are not images, too many images at once. Each is refused with a
message the chat shows; nothing raises into the UI. Accepted images are decoded with mmreason's image reader
(size checked from the header before any pixel is decoded, EXIF orientation applied) and downscaled so that their
longer side is at most `max_side` before the processor tiles them.

Gradio's `MultimodalTextbox` turns a long paste into a `.txt` file: text files are read (UTF-8, invalid bytes
replaced, at most `max_text_chars`) and become part of the message text.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from ..model.image_io import ImageError, load_rgb


@dataclass(frozen=True)
class UploadLimits:
    """What the demo accepts per turn.

    Args:
        max_bytes: largest file accepted (bytes).
        max_images: most images per turn (the rest are refused).
        max_pixels: largest decoded size (width x height), checked from the header (decompression bombs).
        max_side: longer side after downscaling (pixels).
        max_text_chars: most characters taken from a text file (a long paste); the rest is cut, with a message.
    """

    max_bytes: int = 20 * 1024 * 1024
    max_images: int = 4
    max_pixels: int = 64_000_000
    max_side: int = 1536
    max_text_chars: int = 20_000


#: the limits used when none are given
DEFAULT_LIMITS = UploadLimits()


@dataclass
class Uploads:
    """The images accepted from one turn's files, in order, the texts of its text files, and one message per
    refused (or cut) file."""

    images: list[Image.Image] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def _human(size: int) -> str:
    return f"{size / 2**20:.1f} MiB" if size >= 2**20 else f"{size / 1024:.1f} KiB"


def downscale(image: Image.Image, max_side: int) -> Image.Image:
    """`image` shrunk (aspect kept, bicubic) to a longer side of at most `max_side`; smaller ones as they are."""
    longest = max(image.size)
    if longest <= max_side:
        return image
    scale = max_side / longest
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.BICUBIC)


#: suffixes read as text (a long paste arrives as `paste.txt`)
TEXT_SUFFIXES = (".txt", ".md")


def _read_text(path: Path, limits: UploadLimits, found: Uploads) -> None:
    with open(path, encoding="utf-8", errors="replace") as handle:
        text = handle.read(limits.max_text_chars + 1)
    if len(text) > limits.max_text_chars:
        found.problems.append(f"{path.name}: only the first {limits.max_text_chars:,} characters are used.")
        text = text[: limits.max_text_chars]
    found.texts.append(text)


def read_uploads(paths: list[str | os.PathLike], limits: UploadLimits = DEFAULT_LIMITS) -> Uploads:
    """Read one turn's uploaded files (paths the UI saved them to); never raises for a bad file."""
    found = Uploads()
    for raw in paths:
        path = Path(raw)
        name = path.name
        if len(found.images) >= limits.max_images and path.suffix.lower() not in TEXT_SUFFIXES:
            found.problems.append(f"{name}: not used, at most {limits.max_images} images per message.")
            continue
        size = _size(path)
        if size is None:
            found.problems.append(f"{name}: the file could not be read.")
            continue
        if size > limits.max_bytes:
            found.problems.append(f"{name}: the file is {_human(size)}, over the {_human(limits.max_bytes)} limit.")
            continue
        if path.suffix.lower() in TEXT_SUFFIXES:
            _read_text(path, limits, found)
            continue
        try:
            image = load_rgb(str(path), max_pixels=limits.max_pixels)
        except ImageError as error:  # the reader's message, without the server's upload path
            reason = str(error).replace(f"Image {path}", "the file").replace(str(path), name)
            found.problems.append(f"{name}: not a usable image ({reason}).")
            continue
        except Exception as error:  # anything else a hostile file provokes in a decoder
            found.problems.append(f"{name}: not a usable image ({type(error).__name__}).")
            continue
        if image is None:
            found.problems.append(f"{name}: not a usable image.")
            continue
        found.images.append(downscale(image, limits.max_side))
    return found


__all__ = ["DEFAULT_LIMITS", "TEXT_SUFFIXES", "UploadLimits", "Uploads", "downscale", "read_uploads"]
