"""vLLM's LLaVA-OneVision with the checkpoint's geometry (needs vLLM; `mmreason_vllm.geometry` does the counting).

Two overrides of vLLM 0.32's `llava_onevision.py`, the two places that hard-code `anyres_max_9` and round:
`_get_num_unpadded_features` (how many placeholder tokens an image gets in the prompt) and
`_merge_image_patch_embeddings` (which features fill them). Both now follow `vision_aspect_ratio` from the
config and LLaVA-NeXT's truncating unpad, as mmreason's processor and model do.
"""

from __future__ import annotations

import torch
from torch import nn
from vllm.model_executor.models.llava_next import get_anyres_image_grid_shape
from vllm.model_executor.models.llava_onevision import (
    LlavaOnevisionDummyInputsBuilder,
    LlavaOnevisionForConditionalGeneration,
    LlavaOnevisionMultiModalProcessor,
    LlavaOnevisionProcessingInfo,
)
from vllm.multimodal import MULTIMODAL_REGISTRY

from .geometry import image_grid_features, max_tiles


class FaithfulProcessingInfo(LlavaOnevisionProcessingInfo):
    """Placeholder counts from the checkpoint's `vision_aspect_ratio` and the truncating unpad."""

    def _get_num_unpadded_features(
        self, *, original_height: int, original_width: int, npatches: int, num_patch_height: int,
        num_patch_width: int,
    ) -> tuple[int, int]:  # fmt: skip
        tiles = max_tiles(getattr(self.get_hf_config(), "vision_aspect_ratio", "anyres_max_9"))
        _, _, down = image_grid_features((original_height, original_width), (num_patch_height, num_patch_width),
                                         npatches, tiles)  # fmt: skip
        return down[0] * down[1], down[0]


@MULTIMODAL_REGISTRY.register_processor(
    LlavaOnevisionMultiModalProcessor, info=FaithfulProcessingInfo, dummy_inputs=LlavaOnevisionDummyInputsBuilder
)
class FaithfulLlavaOnevision(LlavaOnevisionForConditionalGeneration):
    """vLLM's LLaVA-OneVision whose image features follow the checkpoint's geometry."""

    def _merge_image_patch_embeddings(
        self, image_size: torch.Tensor, patch_embeddings: torch.Tensor, *, image_newline=None,
        vision_aspect_ratio=None, strategy: str,
    ) -> torch.Tensor:  # fmt: skip
        if strategy != "spatial_unpad" or patch_embeddings.shape[0] == 1:
            return super()._merge_image_patch_embeddings(image_size, patch_embeddings, image_newline=image_newline,
                                                         strategy=strategy)  # fmt: skip
        vision = self.config.vision_config
        side = vision.image_size // vision.patch_size
        base, grid_features = patch_embeddings[0], patch_embeddings[1:]
        if base.shape[0] != side * side:
            raise ValueError("The number of patches is not consistent with the image size.")
        height, width = (int(x) for x in image_size.tolist())
        rows, cols = get_anyres_image_grid_shape((height, width), self.config.image_grid_pinpoints, vision.image_size)
        tiles = max_tiles(getattr(self.config, "vision_aspect_ratio", "anyres_max_9"))
        (crop_rows, crop_cols), unpadded, down = image_grid_features((height, width), (rows, cols), side, tiles)
        grid = grid_features[: rows * cols].view(rows, cols, side, side, -1).permute(4, 0, 2, 1, 3)
        grid = grid.reshape(-1, rows * side, cols * side)[:, crop_rows, crop_cols]
        if down != unpadded:
            grid = nn.functional.interpolate(grid[None], list(down), mode="bilinear")[0]
        if image_newline is not None:
            grid = torch.cat((grid, image_newline[:, None, None].to(grid).expand(*grid.shape[:-1], 1)), dim=-1)
        return torch.cat((base, grid.flatten(1, 2).transpose(0, 1)), dim=0)


__all__ = ["FaithfulLlavaOnevision", "FaithfulProcessingInfo"]
