"""vLLM's LLaVA-OneVision with the checkpoint's geometry (needs vLLM; `mmreason_vllm.geometry` does the counting).

Overrides of vLLM 0.32's `llava_onevision.py` where it departs from the training code:

* `_get_num_unpadded_features` (placeholder tokens of an anyres image) and `_merge_image_patch_embeddings` (which
  features fill them) hard-code `anyres_max_9` and round the unpad crop; here they follow the config's
  `vision_aspect_ratio` and `image_unpad_rule` (LLaVA-NeXT's truncation by default), as mmreason's processor and
  model do;
* a prompt with several images: vLLM tiles each anyres; LLaVA-NeXT pads each to one square tile (`side**2`
  features + one newline). The processor marks such prompts (`MULTI_IMAGE_KWARG`, which also keys vLLM's processor
  and encoder caches, so an image seen alone and in a group never share an entry), builds the padded tiles
  (`multi_image.py`) and counts `side**2 + 1` tokens per image; vLLM's model already packs one-tile images so.

Videos are left to vLLM: its count (`frames * ceil(side / 2)**2 + 1`) and bilinear stride-2 pooling are LLaVA-NeXT's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

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
from vllm.multimodal.processing import PromptReplacement

from .anyres import multi_image_num_tokens
from .geometry import image_grid_features, max_tiles, unpad_rule
from .multi_image import multi_image_pixels

#: processor kwarg set on prompts with several images: their number (vLLM hashes processor kwargs into cache keys)
MULTI_IMAGE_KWARG = "mmreason_images_in_prompt"


class FaithfulProcessingInfo(LlavaOnevisionProcessingInfo):
    """Placeholder counts from the checkpoint's `vision_aspect_ratio` and `image_unpad_rule`."""

    def _get_num_unpadded_features(
        self, *, original_height: int, original_width: int, npatches: int, num_patch_height: int,
        num_patch_width: int,
    ) -> tuple[int, int]:  # fmt: skip
        config = self.get_hf_config()
        tiles = max_tiles(getattr(config, "vision_aspect_ratio", "anyres_max_9"))
        _, _, down = image_grid_features((original_height, original_width), (num_patch_height, num_patch_width),
                                         npatches, tiles, unpad_rule(config))  # fmt: skip
        return down[0] * down[1], down[0]


class FaithfulMultiModalProcessor(LlavaOnevisionMultiModalProcessor):
    """vLLM's processor, with LLaVA-NeXT's one padded tile per image for prompts with several images."""

    def apply(self, inputs, timing_ctx):
        count = inputs.mm_data_items.get_all_counts().get("image", 0)
        if count > 1:
            kwargs = {**inputs.hf_processor_mm_kwargs, MULTI_IMAGE_KWARG: count}
            inputs = dataclasses.replace(inputs, hf_processor_mm_kwargs=kwargs)
        return super().apply(inputs, timing_ctx)

    def _apply_hf_processor_main(self, mm_items, hf_kwargs):
        hf_kwargs = dict(hf_kwargs)
        multi = hf_kwargs.pop(MULTI_IMAGE_KWARG, None) is not None and "image" in mm_items
        images = mm_items["image"].get_processor_data().get("images", []) if multi else []
        if not images:  # one image, or image embeddings (passed through as they are)
            return super()._apply_hf_processor_main(mm_items, hf_kwargs)
        rest = type(mm_items)({k: v for k, v in mm_items.items() if k != "image"})
        out = super()._apply_hf_processor_main(rest, hf_kwargs) if rest else None
        processor = self.info.get_hf_processor().image_processor
        tile = self.info.get_hf_config().vision_config.image_size
        pixels, sizes = multi_image_pixels(images, tile, processor.image_mean, processor.image_std,
                                           getattr(processor, "rescale_factor", 1 / 255))  # fmt: skip
        data = {"pixel_values": torch.from_numpy(pixels), "image_sizes": torch.from_numpy(sizes)}
        if out is None:
            from transformers import BatchFeature

            out = BatchFeature()
        out.update(data)
        return out

    def _get_prompt_updates(
        self, mm_items, hf_processor_mm_kwargs: Mapping[str, object], out_mm_kwargs
    ) -> Sequence[PromptReplacement]:
        updates = list(super()._get_prompt_updates(mm_items, hf_processor_mm_kwargs, out_mm_kwargs))
        if MULTI_IMAGE_KWARG not in hf_processor_mm_kwargs:
            return updates
        image_token_id = self.info.get_hf_config().image_token_index
        tokens = multi_image_num_tokens(self.info.get_vision_encoder_info().get_patch_grid_length())
        single = PromptReplacement(modality="image", target=[image_token_id], replacement=[image_token_id] * tokens)
        return [single if u.modality == "image" else u for u in updates]


@MULTIMODAL_REGISTRY.register_processor(
    FaithfulMultiModalProcessor, info=FaithfulProcessingInfo, dummy_inputs=LlavaOnevisionDummyInputsBuilder
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
        (crop_rows, crop_cols), unpadded, down = image_grid_features((height, width), (rows, cols), side, tiles,
                                                                     unpad_rule(self.config))  # fmt: skip
        grid = grid_features[: rows * cols].view(rows, cols, side, side, -1).permute(4, 0, 2, 1, 3)
        grid = grid.reshape(-1, rows * side, cols * side)[:, crop_rows, crop_cols]
        if down != unpadded:
            grid = nn.functional.interpolate(grid[None], list(down), mode="bilinear")[0]
        if image_newline is not None:
            grid = torch.cat((grid, image_newline[:, None, None].to(grid).expand(*grid.shape[:-1], 1)), dim=-1)
        return torch.cat((base, grid.flatten(1, 2).transpose(0, 1)), dim=0)


__all__ = ["MULTI_IMAGE_KWARG", "FaithfulLlavaOnevision", "FaithfulMultiModalProcessor", "FaithfulProcessingInfo"]
