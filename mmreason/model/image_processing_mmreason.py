"""`MMReasonImageProcessor`: LLaVA-OneVision anyres preprocessing, pixel-identical to transformers' PIL backend,
without torchvision and several times faster.

Where the stock `LlavaOnevisionImageProcessorPil` converts every tile between NumPy and PIL, resizes tiles that
already have the target size and normalises in float64, this processor keeps the image as a uint8 PIL image:

1. open/check/convert to RGB once (`image_io`: corrupt files, decompression bombs and odd modes raise clear errors);
2. single-image samples: pick the best grid pinpoint, resize with the same PIL filter, letterbox into a uint8 canvas,
   cut the tiles with one reshape, and prepend the whole image resized to one tile (the geometry is `anyres`,
   LLaVA-NeXT's `process_anyres_image` rules; pixels equal LLaVA-NeXT's on any transformers version);
   multi-image samples: pad to a square with the mean colour and resize to one tile (as LLaVA-OneVision);
3. rescale+normalise all tiles at once through a 3x256 lookup table computed with the stock float arithmetic,
   so the output equals the stock float32 values bit for bit.

Video frames (`preprocess_videos`) are resized to one tile each and normalised the same way; at most `max_frames`
are kept, sampled by LLaVA-NeXT's `frames_upbound` rule (`frame_sampling.sample_frame_indices`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image
from transformers import BatchFeature
from transformers.image_utils import PILImageResampling, SizeDict
from transformers.models.llava_onevision.image_processing_pil_llava_onevision import (
    LlavaOnevisionImageProcessorKwargs,
    LlavaOnevisionImageProcessorPil,
)

from .anyres import letterbox, tile_boxes
from .configuration_mmreason import parse_grid_pinpoints
from .frame_sampling import sample_frame_indices
from .image_io import DEFAULT_MAX_IMAGE_PIXELS, load_rgb

SIGLIP_MEAN = (0.5, 0.5, 0.5)
SIGLIP_STD = (0.5, 0.5, 0.5)


class MMReasonImageProcessorKwargs(LlavaOnevisionImageProcessorKwargs, total=False):
    r"""
    max_image_pixels (`int`, *optional*):
        Images with more pixels raise `ImageTooLargeError` before they are decoded.
    max_frames (`int`, *optional*):
        Videos with more frames are sampled uniformly down to this many (LLaVA-NeXT's `frames_upbound`).
    """

    max_image_pixels: int
    max_frames: int


class MMReasonImageProcessor(LlavaOnevisionImageProcessorPil):
    """Anyres image processor for [`MMReasonForConditionalGeneration`] (SigLIP mean/std 0.5, 384 px tiles)."""

    valid_kwargs = MMReasonImageProcessorKwargs
    image_mean = SIGLIP_MEAN
    image_std = SIGLIP_STD
    image_grid_pinpoints = parse_grid_pinpoints("(1x1),...,(6x6)", 384)
    max_image_pixels = DEFAULT_MAX_IMAGE_PIXELS
    max_frames = 32

    def _prepare_image_like_inputs(self, images: Any, *args, expected_ndims: int = 3, **kwargs) -> list[Any]:
        """Flatten the (possibly nested) input and open/check every image; uint8 data stays a PIL image."""
        max_pixels = kwargs.get("max_image_pixels", self.max_image_pixels)
        flat = [img for sample in images for img in sample] if _is_nested(images) else _as_list(images)
        prepared = []
        for image in flat:
            # an explicit channel layout for arrays is honoured by the stock conversion
            pil = None if kwargs.get("input_data_format") is not None else load_rgb(image, max_pixels)
            prepared.append(pil if pil is not None else self.process_image(image, **kwargs))
        return prepared

    def _preprocess(
        self,
        images: list[Any],
        batch_num_images: list[int],
        do_resize: bool,
        size: SizeDict,
        image_grid_pinpoints: list[list[int]],
        resample: PILImageResampling | None,
        do_center_crop: bool,
        crop_size: SizeDict,
        do_rescale: bool,
        rescale_factor: float,
        do_normalize: bool,
        image_mean: float | list[float] | None,
        image_std: float | list[float] | None,
        do_pad: bool | None,
        return_tensors: str | None,
        **kwargs,
    ) -> BatchFeature:
        fast = do_resize and not do_center_crop and size.height and size.height == size.width
        if not (fast and all(isinstance(image, Image.Image) for image in images)):
            # Float arrays or unusual options: the stock code path (same results, slower).
            images = [_pil_to_chw(im) if isinstance(im, Image.Image) else im for im in images]
            return super()._preprocess(
                images, batch_num_images, do_resize=do_resize, size=size, image_grid_pinpoints=image_grid_pinpoints,
                resample=resample, do_center_crop=do_center_crop, crop_size=crop_size, do_rescale=do_rescale,
                rescale_factor=rescale_factor, do_normalize=do_normalize, image_mean=image_mean,
                image_std=image_std, do_pad=do_pad, return_tensors=return_tensors, **kwargs,
            )  # fmt: skip
        tile = size.height
        lut = _normalization_lut(do_rescale, rescale_factor, do_normalize, image_mean, image_std)
        anyres = [n == 1 for n in batch_num_images for _ in range(n)]
        tiles = [
            self.anyres_tiles(image, image_grid_pinpoints, tile, resample) if single
            else self.square_tile(image, tile, resample)
            for image, single in zip(images, anyres)
        ]  # fmt: skip
        if do_pad:  # one batch array filled in place (no per-image pad + stack copies); padding tiles are zeros
            pixel_values = np.empty((len(tiles), max(len(t) for t in tiles), 3, tile, tile), dtype=np.float32)
            for i, image_tiles in enumerate(tiles):
                _apply_lut(image_tiles, lut, out=pixel_values[i, : len(image_tiles)])
                pixel_values[i, len(image_tiles) :] = 0
        else:
            pixel_values = [_apply_lut(image_tiles, lut) for image_tiles in tiles]
        data = {
            "pixel_values": pixel_values,
            "image_sizes": [(image.height, image.width) for image in images],
            "batch_num_images": batch_num_images,
        }
        return BatchFeature(data=data, tensor_type=return_tensors)

    @staticmethod
    def anyres_tiles(image: Image.Image, pinpoints: list[list[int]], tile: int, resample: Any) -> list[np.ndarray]:
        """uint8 `(tile, tile, 3)` views: the whole image at one tile, then the letterboxed grid tiles row by row."""
        resolution, (new_h, new_w), (top, left) = letterbox((image.height, image.width), pinpoints)
        canvas = np.zeros((*resolution, 3), dtype=np.uint8)
        canvas[top : top + new_h, left : left + new_w] = np.asarray(image.resize((new_w, new_h), resample))
        grid = [canvas[y0:y1, x0:x1] for x0, y0, x1, y1 in tile_boxes(resolution, tile)]
        return [np.asarray(image.resize((tile, tile), resample)), *grid]

    def get_image_patches(
        self, image: np.ndarray, grid_pinpoints: list[list[int]], size: tuple, patch_size: int, resample: Any
    ) -> list[np.ndarray]:
        """The stock path's tiles of a `(C, H, W)` array, with the geometry of `anyres` (not transformers'
        private helpers): the whole image resized to `size`, then the letterboxed grid tiles row by row."""
        (best_h, best_w), (new_h, new_w), (top, left) = letterbox(image.shape[-2:], grid_pinpoints)
        resized = self.resize(image=image, size=SizeDict(height=new_h, width=new_w), resample=resample)
        padding = ((0, 0), (top, best_h - new_h - top), (left, best_w - new_w - left))
        canvas = np.pad(resized, padding, mode="constant", constant_values=0)
        grid = [canvas[:, y0:y1, x0:x1] for x0, y0, x1, y1 in tile_boxes((best_h, best_w), patch_size)]
        whole = self.resize(image=image, size=SizeDict(height=size[0], width=size[1]), resample=resample)
        return [whole, *grid]

    def square_tile(self, image: Image.Image, tile: int, resample: Any) -> list[np.ndarray]:
        """One uint8 `(tile, tile, 3)` tile: padded to a square with the mean colour (multi-image samples)."""
        side = max(image.width, image.height)
        if image.width != image.height:
            color = tuple(int(x * 255) for x in self.image_mean)
            square = Image.new("RGB", (side, side), color)
            square.paste(image, ((side - image.width) // 2, (side - image.height) // 2))
            image = square
        return [np.asarray(image.resize((tile, tile), resample))]

    def preprocess_videos(
        self, videos: Any, max_frames: int | None = None, return_tensors: str | None = None
    ) -> BatchFeature:
        """Videos (each a list of frames or a `(T, H, W, C)` uint8 array) -> `pixel_values_videos (B, T, 3, S, S)`.

        All videos of one call must end up with the same number of frames (after `max_frames` sampling).
        """
        max_frames = max_frames or self.max_frames
        tile = self.size["height"]
        lut = _normalization_lut(
            self.do_rescale, self.rescale_factor, self.do_normalize, self.image_mean, self.image_std
        )
        out = []
        for video in videos:
            frames = list(video)
            frames = [frames[i] for i in sample_frame_indices(len(frames), max_frames)]
            rgb = [load_rgb(frame, self.max_image_pixels) for frame in frames]
            if any(frame is None for frame in rgb):
                raise ValueError("Video frames must be PIL images or uint8 arrays.")
            out.append(_apply_lut([np.asarray(frame.resize((tile, tile), self.resample)) for frame in rgb], lut))
        if len({len(v) for v in out}) > 1:
            raise ValueError(
                f"Videos in one batch have different frame counts {[len(v) for v in out]}; sample them to the same "
                "count (max_frames) or process them one at a time."
            )
        return BatchFeature(data={"pixel_values_videos": np.stack(out)}, tensor_type=return_tensors)


def _is_nested(images: Any) -> bool:
    return isinstance(images, (list, tuple)) and len(images) > 0 and isinstance(images[0], (list, tuple))


def _as_list(images: Any) -> list[Any]:
    return list(images) if isinstance(images, (list, tuple)) else [images]


def _pil_to_chw(image: Image.Image) -> np.ndarray:
    return np.ascontiguousarray(np.moveaxis(np.asarray(image), -1, 0))


def _normalization_lut(do_rescale, rescale_factor, do_normalize, mean, std) -> np.ndarray:
    """`(3, 256)` float32 table: value v of channel c -> the stock processor's rescaled, normalised float32."""
    values = np.arange(256, dtype=np.float64)
    values = (values * rescale_factor).astype(np.float32) if do_rescale else values.astype(np.float32)
    lut = np.broadcast_to(values, (3, 256)).copy()
    if do_normalize:
        mean = np.array(mean if isinstance(mean, (list, tuple)) else [mean] * 3, dtype=np.float32)
        std = np.array(std if isinstance(std, (list, tuple)) else [std] * 3, dtype=np.float32)
        lut = (lut - mean[:, None]) / std[:, None]
    return lut


def _apply_lut(tiles: list[np.ndarray], lut: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """uint8 `(S, S, 3)` tiles -> float32 `(N, 3, S, S)` through the per-channel table (into `out` if given).

    Each tile is made planar once, then every plane is one contiguous gather (cache-friendly, no float64).
    """
    if out is None:
        out = np.empty((len(tiles), 3, *tiles[0].shape[:2]), dtype=np.float32)
    for n, tile in enumerate(tiles):
        planes = np.ascontiguousarray(tile.transpose(2, 0, 1))
        for c in range(3):
            np.take(lut[c], planes[c], out=out[n, c], mode="clip")  # uint8 indices never clip
    return out


__all__ = ["MMReasonImageProcessor"]
