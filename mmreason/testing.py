"""Tiny, fully offline mmreason models for tests, docs and smoke tests.

Nothing here touches the Hub: the tokenizer is a byte-level Qwen2 tokenizer built from its 256 byte symbols plus
the Qwen chat and LLaVA placeholder tokens; the model is randomly initialised from small SigLIP + Qwen2 configs.

    >>> from mmreason.testing import build_tiny
    >>> model, processor = build_tiny()                      # 32 px tiles, patch 8: 16 tokens per tile
    >>> model, processor = build_tiny(real_geometry=True)    # 384 px tiles, patch 14: 729 tokens per tile
    >>> model, processor = build_tiny(servable=True)         # head_dim 32 everywhere: vLLM's CPU attention serves it
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from PIL import Image, ImageDraw
from transformers import GenerationConfig, Qwen2Tokenizer
from transformers.convert_slow_tokenizer import bytes_to_unicode

from .model import MMReasonConfig, MMReasonForConditionalGeneration, MMReasonProcessor
from .model.chat_templates import QWEN_2_5

SPECIAL_TOKENS = ["<|im_start|>", "<|im_end|>", "<image>", "<video>"]


def build_tokenizer(chat_template: str = QWEN_2_5) -> Qwen2Tokenizer:
    """Byte-level Qwen2 tokenizer: 256 byte symbols, `<|endoftext|>`, ChatML and `<image>`/`<video>` tokens."""
    vocab = {"<|endoftext|>": 0}
    for symbol in bytes_to_unicode().values():
        vocab[symbol] = len(vocab)
    tokenizer = Qwen2Tokenizer(vocab=vocab, merges=[])
    tokenizer.add_special_tokens({"additional_special_tokens": SPECIAL_TOKENS})
    tokenizer.eos_token = "<|im_end|>"  # as in Qwen2.5-Instruct; padding stays <|endoftext|>
    tokenizer.chat_template = chat_template
    return tokenizer


def tiny_config(
    tokenizer: Qwen2Tokenizer | None = None,
    *,
    real_geometry: bool = False,
    vision_aspect_ratio: str = "anyres_max_4",
    grid: str = "(1x1),...,(3x3)",
    servable: bool = False,
    **overrides: Any,
) -> MMReasonConfig:
    """A small `MMReasonConfig` matching `tokenizer` (built if not given).

    `real_geometry=True` keeps SigLIP-so400m's 384 px / patch-14 tiles (729 tokens per tile) with tiny widths.
    `servable=True` gives both towers head_dim 32 (1 vision head; 2 query / 1 key-value text heads), the smallest
    vLLM's CPU attention accepts, at the same widths (export with `mmreason convert --to llava_onevision`).
    """
    tokenizer = tokenizer or build_tokenizer()
    image_size, patch_size = (384, 14) if real_geometry else (32, 8)
    vision = {
        "model_type": "siglip_vision_model",
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 3,
        "num_attention_heads": 2,
        "image_size": image_size,
        "patch_size": patch_size,
        "vision_use_head": False,
    }
    if servable:
        vision["num_attention_heads"] = 1
    text = {
        "model_type": "qwen2",
        "vocab_size": len(tokenizer),
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "max_position_embeddings": 32768,
        "tie_word_embeddings": False,
        "pad_token_id": tokenizer.pad_token_id,
        "eos_token_id": tokenizer.convert_tokens_to_ids("<|im_end|>"),
    }
    if servable:
        text.update(num_attention_heads=2, num_key_value_heads=1)
    kwargs = {
        "vision_config": vision,
        "text_config": text,
        "image_token_index": tokenizer.convert_tokens_to_ids("<image>"),
        "video_token_index": tokenizer.convert_tokens_to_ids("<video>"),
        "vision_aspect_ratio": vision_aspect_ratio,
        "image_grid_pinpoints": grid,
        **overrides,
    }
    return MMReasonConfig(**kwargs)


def build_tiny(
    *,
    real_geometry: bool = False,
    vision_aspect_ratio: str = "anyres_max_4",
    seed: int = 0,
    servable: bool = False,
    **config_overrides: Any,
) -> tuple[MMReasonForConditionalGeneration, MMReasonProcessor]:
    """A random tiny model and its processor (fp32, eval mode, generation stops at `<|im_end|>`).

    For a tiny model vLLM can serve: `build_tiny(servable=True)` (head_dim 32), saved and exported with `mmreason
    convert --to llava_onevision`; stock vLLM (without mmreason's plugin) implements only
    `vision_aspect_ratio="anyres_max_9", image_unpad_rule="round"`.
    """
    tokenizer = build_tokenizer()
    config = tiny_config(
        tokenizer,
        real_geometry=real_geometry,
        vision_aspect_ratio=vision_aspect_ratio,
        servable=servable,
        **config_overrides,
    )
    torch.manual_seed(seed)
    model = MMReasonForConditionalGeneration(config).eval()
    eos = tokenizer.convert_tokens_to_ids("<|im_end|>")
    model.generation_config = GenerationConfig(eos_token_id=eos, pad_token_id=tokenizer.pad_token_id)
    processor = MMReasonProcessor.from_model_config(config, tokenizer)
    return model, processor


def make_image(width: int, height: int, seed: int = 0) -> Image.Image:
    """A deterministic RGB test image: a noisy gradient with a few shapes (non-trivial for every tile)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * 255 // max(width - 1, 1), y * 255 // max(height - 1, 1), (x + y) % 256], axis=-1)
    noise = rng.integers(0, 48, size=(height, width, 3))
    image = Image.fromarray(((base + noise) % 256).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(3):
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        x1, y1 = x0 + int(rng.integers(1, width // 2 + 2)), y0 + int(rng.integers(1, height // 2 + 2))
        draw.rectangle([x0, y0, x1, y1], fill=tuple(int(c) for c in rng.integers(0, 256, 3)))
    return image


__all__ = ["SPECIAL_TOKENS", "build_tiny", "build_tokenizer", "make_image", "tiny_config"]
