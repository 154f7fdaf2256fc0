"""The numbers vLLM asks for, from mmreason's geometry (`anyres.py`); pure Python, no vLLM or torch needed."""

from __future__ import annotations

import re

from .anyres import check_unpad_rule, downsampled_size, unpad_crop

_ANYRES = re.compile(r"^anyres_max_(\d+)$")


def max_tiles(vision_aspect_ratio: str | None) -> int | None:
    """N of `anyres_max_N`; `None` for plain `anyres` (no downsampling) or no value.

    Raises:
        ValueError: any other value (serving it with a guessed geometry would be a silent wrong result).
    """
    if vision_aspect_ratio in (None, "", "anyres"):
        return None
    match = _ANYRES.match(str(vision_aspect_ratio))
    if match is None or int(match.group(1)) < 1:
        raise ValueError(f"vision_aspect_ratio {vision_aspect_ratio!r}: expected 'anyres' or 'anyres_max_N'")
    return int(match.group(1))


def unpad_rule(config: object) -> str:
    """The checkpoint's `image_unpad_rule` (`"truncate"`, LLaVA-NeXT's, when the config has none, as in mmreason).

    Raises:
        ValueError: an unknown rule.
    """
    return check_unpad_rule(getattr(config, "image_unpad_rule", None) or "truncate")


def image_grid_features(
    image_size: tuple[int, int], grid: tuple[int, int], side: int, tiles: int | None, rule: str = "truncate"
) -> tuple[tuple[slice, slice], tuple[int, int], tuple[int, int]]:
    """For an image of `(height, width)` tiled as a `grid` of `(rows, cols)` tiles of `side` x `side` features:
    the crop of the grid's feature map (unpad `rule`: LLaVA-NeXT's `"truncate"` or `"round"`), the cropped size, and
    the size after the `anyres_max_N` downsampling (the cropped size when `tiles` is `None` or no downsampling
    applies). The image's grid tokens are `downsampled[0] * (downsampled[1] + 1)` (one newline per row)."""
    feature_map = (grid[0] * side, grid[1] * side)
    rows, cols = unpad_crop(feature_map, image_size, rule)
    unpadded = (rows.stop - rows.start, cols.stop - cols.start)
    down = unpadded if tiles is None else downsampled_size(unpadded, side, tiles)
    return (rows, cols), unpadded, down


__all__ = ["image_grid_features", "max_tiles", "unpad_rule"]
