"""Pixels of the images of a multi-image prompt, as LLaVA-NeXT's training made them (numpy + Pillow; no vLLM needed).

LLaVA-NeXT preprocesses every image of a sample with several images with `image_aspect_ratio="pad"`
(`llava/train/train.py`): `expand2square` (centred on a square of the mean colour, offsets floor-divided), then
SigLIP's processor (one bicubic resize to the tile, rescale, normalise). Each image is one tile: `side**2` features
and one `image_newline` (`anyres.multi_image_num_tokens`). vLLM's own processor tiles every image anyres instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image


def as_rgb(image: Any) -> Image.Image:
    """A PIL RGB image from a PIL image or an HWC uint8 array (what vLLM's image items hold)."""
    if not isinstance(image, Image.Image):
        array = np.asarray(image)
        if array.ndim == 3 and array.shape[0] in (1, 3, 4) and array.shape[-1] not in (1, 3, 4):
            array = array.transpose(1, 2, 0)  # CHW -> HWC
        image = Image.fromarray(array.astype(np.uint8))
    return image.convert("RGB")


def expand_to_square(image: Image.Image, background: tuple[int, ...]) -> Image.Image:
    """LLaVA-NeXT's `expand2square`: the image centred on a square canvas of `background`."""
    width, height = image.size
    if width == height:
        return image
    side = max(width, height)
    canvas = Image.new(image.mode, (side, side), background)
    canvas.paste(image, ((side - width) // 2, (side - height) // 2))
    return canvas


def padded_tile(
    image: Any, tile: int, mean: Sequence[float], std: Sequence[float], rescale: float = 1 / 255
) -> np.ndarray:
    """One normalised `(3, tile, tile)` float32 tile of one image of a multi-image sample."""
    rgb = as_rgb(image)
    square = expand_to_square(rgb, tuple(int(x * 255) for x in mean))
    resized = np.asarray(square.resize((tile, tile), Image.Resampling.BICUBIC), dtype=np.float32)
    mean_, std_ = np.asarray(mean, dtype=np.float32), np.asarray(std, dtype=np.float32)
    return ((resized * np.float32(rescale) - mean_) / std_).transpose(2, 0, 1)


def multi_image_pixels(
    images: Sequence[Any], tile: int, mean: Sequence[float], std: Sequence[float], rescale: float = 1 / 255
) -> tuple[np.ndarray, np.ndarray]:
    """`(pixel_values (n, 1, 3, tile, tile), image_sizes (n, 2) as (height, width))` of a multi-image prompt."""
    rgb = [as_rgb(image) for image in images]
    tiles = np.stack([padded_tile(image, tile, mean, std, rescale)[None] for image in rgb])
    return tiles, np.array([image.size[::-1] for image in rgb], dtype=np.int64)


__all__ = ["as_rgb", "expand_to_square", "multi_image_pixels", "padded_tile"]
