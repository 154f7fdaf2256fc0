"""Build the stage-1 starting point from a pretrained vision encoder and a pretrained chat LM.

    model, processor = compose_pretrained("google/siglip-so400m-patch14-384", "Qwen/Qwen2.5-7B-Instruct")
    model.save_pretrained("mmreason-siglip-qwen2.5-7b"); processor.save_pretrained("mmreason-siglip-qwen2.5-7b")

As LLaVA-NeXT does for MAmmoTH-VL: the vision tower is the encoder minus its last layer (features are read from
the last kept layer, i.e. layer -2 of the full tower), the language model and LM head are copied as they are, the
`<image>`/`<video>` tokens are added to the tokenizer (embeddings resized if needed), and only the `mlp2x_gelu`
projector and `image_newline` start random. Every copied tensor is checked: nothing missing, nothing left over
except the dropped vision layer.
"""

from __future__ import annotations

from typing import Any

import torch
from transformers import AutoConfig, AutoModel, AutoModelForCausalLM, AutoTokenizer

from .chat_templates import QWEN_2_5
from .configuration_mmreason import MMReasonConfig
from .modeling_mmreason import MMReasonForConditionalGeneration
from .processing_mmreason import MMReasonProcessor


def _load_exact(target: torch.nn.Module, state: dict[str, torch.Tensor], allowed_unused: tuple[str, ...], what: str):
    result = target.load_state_dict(state, strict=False)
    unused = [key for key in result.unexpected_keys if not key.startswith(allowed_unused)]
    if result.missing_keys or unused:
        raise ValueError(f"{what}: missing {result.missing_keys[:5]}, unused {unused[:5]}")


def compose_pretrained(
    vision_model: str,
    language_model: str,
    *,
    drop_last_vision_layer: bool = True,
    vision_aspect_ratio: str = "anyres_max_4",
    dtype: torch.dtype | str | None = None,
    **hub_kwargs: Any,
) -> tuple[MMReasonForConditionalGeneration, MMReasonProcessor]:
    """An [`MMReasonForConditionalGeneration`] + processor from a vision encoder (SigLIP, CLIP, ...: a full
    dual-encoder checkpoint or a vision-only one) and a causal LM, local folders or Hub ids."""
    vision_config = AutoConfig.from_pretrained(vision_model, **hub_kwargs)
    vision_config = getattr(vision_config, "vision_config", vision_config)
    layers = vision_config.num_hidden_layers
    if drop_last_vision_layer:
        vision_config.num_hidden_layers = layers - 1
    tokenizer = AutoTokenizer.from_pretrained(language_model, **hub_kwargs)
    tokenizer.add_special_tokens({"additional_special_tokens": ["<image>", "<video>"]})
    text_config = AutoConfig.from_pretrained(language_model, **hub_kwargs)
    config = MMReasonConfig(
        vision_config=vision_config.to_dict(),
        text_config=text_config.to_dict(),
        image_token_index=tokenizer.convert_tokens_to_ids("<image>"),
        video_token_index=tokenizer.convert_tokens_to_ids("<video>"),
        vision_aspect_ratio=vision_aspect_ratio,
        vision_tower_name_or_path=vision_model,
    )
    model = MMReasonForConditionalGeneration(config)

    vision = AutoModel.from_pretrained(vision_model, dtype=torch.float32, **hub_kwargs)
    vision = getattr(vision, "vision_model", vision)
    tower = model.model.vision_tower
    tower = getattr(tower, "vision_model", tower)
    dropped = (f"encoder.layers.{layers - 1}.",) if drop_last_vision_layer else ()
    _load_exact(tower, vision.state_dict(), dropped, f"vision tower from {vision_model}")

    lm = AutoModelForCausalLM.from_pretrained(language_model, dtype=torch.float32, **hub_kwargs)
    _load_exact(model.model.language_model, lm.get_decoder().state_dict(), (), f"language model from {language_model}")
    model.lm_head.weight.data.copy_(lm.get_output_embeddings().weight.data)
    if len(tokenizer) > model.config.text_config.vocab_size:
        model.resize_token_embeddings(len(tokenizer))
    if dtype is not None:
        model = model.to(getattr(torch, dtype) if isinstance(dtype, str) else dtype)
    tokenizer.chat_template = tokenizer.chat_template or QWEN_2_5
    processor = MMReasonProcessor.from_model_config(config, tokenizer)
    processor.chat_template = QWEN_2_5
    return model, processor


__all__ = ["compose_pretrained"]
