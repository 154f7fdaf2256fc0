"""The quickstart's model: a random mmreason model of the preset's geometry, built offline.

The tokenizer is passed in (the quickstart trains a BPE one on the set, `mmreason.quickstart.tokenizer`; default:
`mmreason.testing`'s byte-level Qwen2 tokenizer; no Hub download); the towers are small SigLIP and
Qwen2 configs sized by the [`Preset`]; each image is shown as one anyres tile plus the base tile.
"""

from __future__ import annotations

import torch
from transformers import GenerationConfig, Qwen2Tokenizer

from ..model import MMReasonConfig, MMReasonForConditionalGeneration, MMReasonProcessor
from ..testing import build_tokenizer, tiny_config
from .presets import Preset


def build_model(
    preset: Preset, seed: int = 0, tokenizer: Qwen2Tokenizer | None = None
) -> tuple[MMReasonForConditionalGeneration, MMReasonProcessor]:
    """A randomly initialised model of `preset`'s geometry and its processor (fp32, generation stops at
    `<|im_end|>`); `tokenizer` defaults to `mmreason.testing`'s byte-level one."""
    tokenizer = tokenizer or build_tokenizer()
    values = tiny_config(tokenizer).to_dict()
    values["vision_config"].update(
        image_size=preset.tile, patch_size=preset.patch, hidden_size=preset.vision_width,
        intermediate_size=2 * preset.vision_width, num_hidden_layers=preset.vision_layers,
    )  # fmt: skip
    values["text_config"].update(
        hidden_size=preset.text_width, intermediate_size=3 * preset.text_width, num_hidden_layers=preset.text_layers,
        num_attention_heads=preset.text_heads, num_key_value_heads=max(1, preset.text_heads // 2),
        layer_types=["full_attention"] * preset.text_layers,
    )  # fmt: skip
    values["image_grid_pinpoints"] = [[preset.tile, preset.tile]]  # one anyres tile (plus the base tile)
    config = MMReasonConfig.from_dict(values)
    torch.manual_seed(seed)
    model = MMReasonForConditionalGeneration(config).eval()
    eos = tokenizer.convert_tokens_to_ids("<|im_end|>")
    model.generation_config = GenerationConfig(eos_token_id=eos, pad_token_id=tokenizer.pad_token_id)
    return model, MMReasonProcessor.from_model_config(config, tokenizer)


__all__ = ["build_model"]
