"""Anyres geometry of LLaVA-OneVision, computed here (pure Python) with LLaVA-NeXT's exact rules.

One source of truth for the image processor (tiles), the processor (placeholder counts) and the model (feature
crop and downsampling), so the three always agree, and none of them depends on private transformers helpers
whose behaviour changes between releases (transformers 5.23's `get_patch_output_size` swapped height and width
for PIL images). The rules are those of the code the release checkpoints were trained with, LLaVA-NeXT
(`llava/mm_utils.py`: `select_best_resolution`, `resize_and_pad_image`, `divide_to_patches`,
`get_anyres_image_grid_shape`; `llava/model/llava_arch.py`: `unpad_image` and the `anyres_max_N` branch of
`prepare_inputs_labels_for_multimodal`):

* the best grid resolution maximises the image area kept after an aspect-preserving downscale, then minimises
  the wasted area (first candidate wins ties);
* the image is resized so that one side fills the resolution (the other `ceil`-ed, capped), and centred on a
  black canvas (offsets floor-divided); tiles are cut row by row; a whole-image tile (the image squashed to one
  tile) comes first;
* the grid's feature map is cropped back to the image's aspect ratio with LLaVA-NeXT's *truncating* rule,
  `int(h * (W / w))` (`rule="truncate"`); transformers and vLLM round to 7 digits first (`rule="round"`,
  `int(round(h * (W / w), 7))`) and so keep 2 more columns of e.g. a 47x423 image — a checkpoint's config field
  `image_unpad_rule` says which rule it was trained with;
* a crop of more than `1.1**2 * N` tiles' worth of features is bilinearly resized to
  `(int(h // t), int(w // t))`, `t = sqrt(h * w / (N * side**2))`; one `image_newline` ends every feature row.

Samples with several images and videos do not tile (`llava/train/train.py` preprocesses each image of a multi-image
sample with `image_aspect_ratio="pad"`, `llava_arch.py`'s `get_2dPool` pools video frames):

* each image of a multi-image sample is padded to a square with the mean colour and resized to one tile: `side**2`
  features and one `image_newline` (`multi_image_num_tokens`);
* a video's frames are one tile each, bilinearly pooled to `ceil(side / 2)` features a side, all frames flattened
  and ended by a single `image_newline` (`video_num_tokens`).

All sizes are `(height, width)`; pinpoints are `[height, width]` pairs as in the config.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Size = tuple[int, int]

#: unpad rules: LLaVA-NeXT's (`"truncate"`, what the release checkpoints were trained with) and transformers'/vLLM's
UNPAD_RULES = ("truncate", "round")


def select_best_resolution(image_size: Size, pinpoints: Sequence[Sequence[int]]) -> Size:
    """The grid resolution `(height, width)` an image of `image_size` is tiled at.

    LLaVA-NeXT reads its pinpoint pairs as `(width, height)`; for a transpose-symmetric grid such as
    `(1x1),...,(6x6)` that only changes the order ties are tried in, and no size up to 3000x3000 has such a tie.
    """
    height, width = image_size
    best, best_effective, best_wasted = None, 0, math.inf
    for pin_h, pin_w in pinpoints:
        scale = min(pin_w / width, pin_h / height)
        effective = min(int(width * scale) * int(height * scale), width * height)
        wasted = pin_w * pin_h - effective
        if effective > best_effective or (effective == best_effective and wasted < best_wasted):
            best, best_effective, best_wasted = (int(pin_h), int(pin_w)), effective, wasted
    if best is None:
        raise ValueError(f"No grid pinpoint fits an image of size {image_size}: {list(pinpoints)}")
    return best


def fit_size(image_size: Size, target: Size) -> Size:
    """Aspect-preserving resize of `image_size` into `target`: one side fills it, the other is `ceil`-ed."""
    height, width = image_size
    target_h, target_w = target
    scale_w, scale_h = target_w / width, target_h / height
    if scale_w < scale_h:
        return min(math.ceil(height * scale_w), target_h), target_w
    return target_h, min(math.ceil(width * scale_h), target_w)


def letterbox(image_size: Size, pinpoints: Sequence[Sequence[int]]) -> tuple[Size, Size, Size]:
    """`(resolution, resized, (top, left))`: the canvas an image is tiled at, the image's size on it and where the
    image is pasted (centred, offsets floor-divided, the rest black)."""
    resolution = select_best_resolution(image_size, pinpoints)
    resized = fit_size(image_size, resolution)
    return resolution, resized, ((resolution[0] - resized[0]) // 2, (resolution[1] - resized[1]) // 2)


def tile_boxes(resolution: Size, tile: int) -> list[tuple[int, int, int, int]]:
    """`(left, top, right, bottom)` of every tile of a `resolution` canvas, row by row."""
    height, width = resolution
    return [(x, y, x + tile, y + tile) for y in range(0, height, tile) for x in range(0, width, tile)]


def check_unpad_rule(rule: str) -> str:
    """`rule` if it is one of `UNPAD_RULES`; a `ValueError` naming them otherwise."""
    if rule not in UNPAD_RULES:
        raise ValueError(f"Unknown unpad rule {rule!r}; expected one of {UNPAD_RULES}.")
    return rule


def unpad_crop(feature_size: Size, image_size: Size, rule: str = "truncate") -> tuple[slice, slice]:
    """Rows and columns of a `feature_size` grid feature map that cover the image (not its letterbox).

    `rule="truncate"` keeps `int(h * (W / w))` rows (LLaVA-NeXT), `"round"` keeps `int(round(h * (W / w), 7))`
    (transformers, vLLM); they differ when the product is a float just below an integer.
    """
    keep = int if check_unpad_rule(rule) == "truncate" else lambda x: int(round(x, 7))
    cur_h, cur_w = feature_size
    height, width = image_size
    if width / height > cur_w / cur_h:  # letterboxed top and bottom
        padding = (cur_h - keep(height * (cur_w / width))) // 2
        return slice(padding, cur_h - padding), slice(0, cur_w)
    padding = (cur_w - keep(width * (cur_h / height))) // 2
    return slice(0, cur_h), slice(padding, cur_w - padding)


def downsampled_size(size: Size, side: int, max_tiles: int) -> Size:
    """`anyres_max_N`: the feature map size after bilinear downsampling (`size` itself if small enough)."""
    height, width = size
    times = math.sqrt(height * width / (max_tiles * side**2))
    if times > 1.1:
        return int(height // times), int(width // times)
    return height, width


@dataclass(frozen=True)
class AnyresLayout:
    """Where an image's pixels and features go (all sizes `(height, width)`)."""

    image_size: Size
    tile: int  #: tile size in pixels
    resolution: Size  #: the chosen grid pinpoint
    resized: Size  #: the image inside the letterbox
    offset: Size  #: `(top, left)` of the resized image on the black canvas
    grid: Size  #: `(rows, cols)` of tiles
    feature_map: Size  #: grid features before the crop
    unpadded: Size  #: after the unpad crop
    downsampled: Size  #: after `anyres_max_N` downsampling
    num_tokens: int  #: whole-image tile + grid features + one newline per row

    @property
    def grid_tokens(self) -> int:
        """Tokens of the grid part: the downsampled feature rows, each followed by one `image_newline`."""
        return self.downsampled[0] * (self.downsampled[1] + 1)

    @property
    def tile_boxes(self) -> list[tuple[int, int, int, int]]:
        """`(left, top, right, bottom)` of the grid tiles on the canvas, row by row."""
        return tile_boxes(self.resolution, self.tile)


def anyres_layout(
    image_size: Size, pinpoints: Sequence[Sequence[int]], tile: int, side: int, max_tiles: int,
    unpad_rule: str = "truncate",
) -> AnyresLayout:  # fmt: skip
    """The full anyres geometry of one single-image sample.

    Args:
        image_size: `(height, width)` of the image.
        pinpoints: candidate grid resolutions, `[height, width]` multiples of `tile`.
        tile: tile size in pixels (the vision tower's `image_size`, 384 for SigLIP-so400m).
        side: features per tile side (`image_size // patch_size`, 27 for SigLIP-so400m-patch14-384).
        max_tiles: N of `anyres_max_N`.
        unpad_rule: `"truncate"` (LLaVA-NeXT) or `"round"` (transformers, vLLM), see `unpad_crop`.
    """
    height, width = (int(x) for x in image_size)
    if height < 1 or width < 1:
        raise ValueError(f"Image size must be positive, got {image_size}.")
    resolution, resized, offset = letterbox((height, width), pinpoints)
    grid = (resolution[0] // tile, resolution[1] // tile)
    feature_map = (grid[0] * side, grid[1] * side)
    rows, cols = unpad_crop(feature_map, (height, width), unpad_rule)
    unpadded = (rows.stop - rows.start, cols.stop - cols.start)
    down = downsampled_size(unpadded, side, max_tiles)
    num_tokens = side * side + down[0] * (down[1] + 1)  # == side**2 + grid_tokens
    return AnyresLayout(
        image_size=(height, width), tile=tile, resolution=resolution, resized=resized, offset=offset, grid=grid,
        feature_map=feature_map, unpadded=unpadded, downsampled=down, num_tokens=num_tokens,
    )  # fmt: skip


def multi_image_num_tokens(side: int) -> int:
    """Tokens of each image of a sample with several images: one padded tile (`side**2`) and one newline."""
    return side * side + 1


def video_pooled_side(side: int) -> int:
    """Features a side of one video frame after LLaVA-NeXT's stride-2 bilinear pooling (`ceil(side / 2)`)."""
    return math.ceil(side / 2)


def video_num_tokens(num_frames: int, side: int) -> int:
    """Tokens of a video of `num_frames` sampled frames: every frame pooled, flattened, then one newline."""
    if num_frames < 1:
        raise ValueError(f"A video needs at least one frame, got {num_frames}.")
    return num_frames * video_pooled_side(side) ** 2 + 1


__all__ = [
    "UNPAD_RULES",
    "AnyresLayout",
    "anyres_layout",
    "check_unpad_rule",
    "downsampled_size",
    "fit_size",
    "letterbox",
    "multi_image_num_tokens",
    "select_best_resolution",
    "tile_boxes",
    "unpad_crop",
    "video_num_tokens",
    "video_pooled_side",
]
