"""LLaVA-NeXT's checkpoint format (MAmmoTH-VL-8B, MAmmoTH-VL2, lmms-lab/llava-onevision-qwen2-*).

Such a folder holds a language-model `config.json` (`architectures: ["LlavaQwenForCausalLM"]`, `model_type` one of
`llava_qwen`, `qwen2` or — in the released OneVision configs, edited for SGLang — `llava`) extended with `mm_*`
fields, the LM's tokenizer, and weights named

    model.{embed_tokens,layers.*,norm}.*          lm_head.weight
    model.vision_tower.vision_tower.vision_model.*
    model.mm_projector.{0,2}.{weight,bias}         model.image_newline

The vision tower's config is *not* in the folder: `mm_vision_tower` names it by Hub id; it is resolved the HF way
(Hub, or the local HF cache under `HF_HUB_OFFLINE=1`) and only its *shape* is used — every weight comes from the
checkpoint. LLaVA-NeXT's SigLIP tower deletes the encoder's last layer and reads the last remaining hidden state
(its `mm_vision_select_layer=-2`), so a 27-layer SigLIP becomes a 26-layer tower read at layer -1 here.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

from transformers import AutoConfig, PreTrainedConfig

from .configuration_mmreason import parse_anyres_max, parse_grid_pinpoints

LLAVA_NEXT_ARCHITECTURES = {
    "LlavaQwenForCausalLM": "qwen2",
    "LlavaQwen3ForCausalLM": "qwen3",
    "LlavaLlamaForCausalLM": "llama",
    "LlavaMistralForCausalLM": "mistral",
    "LlavaMixtralForCausalLM": "mixtral",
    "LlavaGemmaForCausalLM": "gemma",
}
TEXT_MODEL_TO_ARCHITECTURE = {v: k for k, v in LLAVA_NEXT_ARCHITECTURES.items()}
#: language-model type -> the `model_type` LLaVA-NeXT's own config class declares (`llava/model/language_model/`)
TEXT_MODEL_TO_LLAVA_NEXT_TYPE = {
    "qwen2": "llava_qwen",
    "llama": "llava_llama",
    "mistral": "llava_mistral",
    "mixtral": "llava_mixtral",
    "gemma": "llava_gemma",
}

# checkpoint key (regex) -> mmreason key, applied by transformers' `key_mapping` at load time
KEYS_FROM_LLAVA_NEXT = {
    r"^model\.mm_projector\.0\.": "model.multi_modal_projector.linear_1.",
    r"^model\.mm_projector\.2\.": "model.multi_modal_projector.linear_2.",
    r"^model\.vision_tower\.vision_tower\.vision_model\.": "model.vision_tower.",
    r"^model\.image_newline$": "model.image_newline",
    r"^model\.(embed_tokens|layers|norm)\.": r"model.language_model.\1.",
}
# mmreason key (regex) -> checkpoint key, for export
KEYS_TO_LLAVA_NEXT = {
    r"^model\.multi_modal_projector\.linear_1\.": "model.mm_projector.0.",
    r"^model\.multi_modal_projector\.linear_2\.": "model.mm_projector.2.",
    r"^model\.vision_tower\.": "model.vision_tower.vision_tower.vision_model.",
    r"^model\.language_model\.": "model.",
}


def transpose_pinpoints(pinpoints: list[list[int]]) -> list[list[int]]:
    """Swap each pair, keeping the order: LLaVA-NeXT's pinpoints (and the `(AxB)` of its range strings) are
    `(width, height)` (`mm_utils.select_best_resolution`: `for width, height in possible_resolutions`), mmreason's
    and transformers' are `(height, width)`. Same order, so ties between candidates resolve alike."""
    return [[second, first] for first, second in pinpoints]


class LlavaNextFormatError(ValueError):
    """A LLaVA-NeXT checkpoint this architecture cannot represent faithfully."""


def read_config_dict(path: str | os.PathLike, **hub_kwargs: Any) -> dict[str, Any]:
    """`config.json` of a local folder or Hub repo, as a dict (no class resolution)."""
    config_dict, _ = PreTrainedConfig.get_config_dict(str(path), **hub_kwargs)
    return config_dict


def is_llava_next_config(config_dict: dict[str, Any]) -> bool:
    """True for an original LLaVA-NeXT config: an LM config with `mm_vision_tower` and no `vision_config`."""
    return "mm_vision_tower" in config_dict and "vision_config" not in config_dict


def resolve_vision_config(config_dict: dict[str, Any], **hub_kwargs: Any) -> PreTrainedConfig:
    """The vision tower's config as LLaVA-NeXT builds it (SigLIP: last encoder layer deleted, no head).

    `mm_vision_config` (written by mmreason's own export) is used when present; otherwise `mm_vision_tower` is
    resolved with `AutoConfig.from_pretrained` (Hub or HF cache), and a SigLIP/CLIP text+vision config is narrowed
    to its vision part.
    """
    embedded = config_dict.get("mm_vision_config")
    name = config_dict["mm_vision_tower"]
    if embedded is not None:
        vision = AutoConfig.for_model(**embedded)
    else:
        try:
            vision = AutoConfig.from_pretrained(name, **hub_kwargs)
        except (OSError, ValueError) as err:
            raise LlavaNextFormatError(
                f"Cannot resolve the vision tower config {name!r} named by `mm_vision_tower`. It is read from the "
                "Hub or, with HF_HUB_OFFLINE=1, from the local HF cache (download it once with "
                f"`hf download {name} config.json`). Only its shape is used; weights come from the checkpoint."
            ) from err
        vision = getattr(vision, "vision_config", vision)
    if "siglip" in vision.model_type:
        vision.num_hidden_layers -= 1  # LLaVA-NeXT: `del vision_model.encoder.layers[-1:]`
        vision.vision_use_head = False  # LLaVA-NeXT: `vision_model.head = nn.Identity()`
    return vision


def language_model_config(config_dict: dict[str, Any]) -> PreTrainedConfig:
    """The language model's config inside a LLaVA-NeXT `config.json` dict (e.g. a `Qwen2Config`)."""
    architecture = (config_dict.get("architectures") or ["LlavaQwenForCausalLM"])[0]
    if architecture not in LLAVA_NEXT_ARCHITECTURES:
        raise LlavaNextFormatError(
            f"Unsupported LLaVA-NeXT architecture {architecture!r}; supported: {sorted(LLAVA_NEXT_ARCHITECTURES)}."
        )
    text_type = LLAVA_NEXT_ARCHITECTURES[architecture]
    config_class = type(AutoConfig.for_model(text_type))
    known = {f.name for f in dataclasses.fields(config_class)} - {"model_type", "architectures"}
    values = {k: v for k, v in config_dict.items() if k in known or k in ("torch_dtype", "rope_theta", "rope_scaling")}
    return AutoConfig.for_model(text_type, **values)


# LLaVA-NeXT fields whose other values change the token layout or add parameters mmreason does not have:
# field -> (the value mmreason implements, LLaVA-NeXT's default when the field is absent, what it means)
IMPLEMENTED_FIELD_VALUES = {
    # video: all frames' pooled features, then one `image_newline` (llava_arch.py's "one_token", OneVision's
    # setting); "grid" adds a newline per row of every frame, "frame" one per frame, "no_token" none
    "mm_newline_position": ("one_token", "one_token", "one newline after a video's frames"),
    # <im_start>/<im_end> tokens around every image: extra embeddings and a different prompt layout
    "mm_use_im_start_end": (False, False, "no <im_start>/<im_end> tokens around images"),
    # LLaVA-Video's `faster_token` parameter and slow/fast frame interleaving
    "add_faster_video": (False, False, "no faster_token / slow-fast video frames"),
}


def check_unimplemented_fields(config_dict: dict[str, Any]) -> None:
    """Raise `LlavaNextFormatError` for a LLaVA-NeXT field set to a value mmreason does not implement (it would
    otherwise load and run with different semantics)."""
    for field, (supported, default, meaning) in IMPLEMENTED_FIELD_VALUES.items():
        value = config_dict.get(field)
        value = default if value is None else value
        if value != supported:
            raise LlavaNextFormatError(
                f"Unsupported {field}={value!r}: mmreason implements only {field}={supported!r} ({meaning}); "
                "this checkpoint would load but compute something else."
            )


def llava_next_to_mmreason(
    config_dict: dict[str, Any], image_token_id: int, video_token_id: int, **hub_kwargs: Any
) -> dict[str, Any]:
    """Keyword arguments of `MMReasonConfig` equivalent to a LLaVA-NeXT `config.json` dict.

    Raises `LlavaNextFormatError` for what this architecture cannot represent (projector type, aspect-ratio mode,
    patch-merge type, vision pooling, the fields of `IMPLEMENTED_FIELD_VALUES`) instead of building something
    different.
    """
    projector = config_dict.get("mm_projector_type", "linear")
    if projector != "mlp2x_gelu":
        raise LlavaNextFormatError(f"Unsupported mm_projector_type {projector!r}: only 'mlp2x_gelu' is supported.")
    aspect = config_dict.get("image_aspect_ratio", "square")
    try:
        parse_anyres_max(aspect)
    except ValueError as err:
        raise LlavaNextFormatError(
            f"Unsupported image_aspect_ratio {aspect!r}: only 'anyres_max_N' (LLaVA-OneVision) is supported."
        ) from err
    merge = config_dict.get("mm_patch_merge_type", "flat")
    if merge != "spatial_unpad":
        raise LlavaNextFormatError(f"Unsupported mm_patch_merge_type {merge!r}: only 'spatial_unpad' is supported.")
    pool = (config_dict.get("mm_spatial_pool_mode", "bilinear"), config_dict.get("mm_spatial_pool_stride", 2))
    if pool[0] != "bilinear" or pool[1] not in (2, None):
        raise LlavaNextFormatError(f"Unsupported video pooling {pool}: only bilinear with stride 2 is supported.")
    check_unimplemented_fields(config_dict)

    vision = resolve_vision_config(config_dict, **hub_kwargs)
    if config_dict.get("mm_hidden_size", vision.hidden_size) != vision.hidden_size:
        raise LlavaNextFormatError(
            f"mm_hidden_size={config_dict['mm_hidden_size']} does not match the vision tower's hidden size "
            f"{vision.hidden_size} ({config_dict['mm_vision_tower']})."
        )
    siglip = "siglip" in vision.model_type
    text = language_model_config(config_dict)
    return {
        "vision_config": vision.to_dict(),
        "text_config": text.to_dict(),
        "vision_feature_layer": -1 if siglip else int(config_dict.get("mm_vision_select_layer", -2)),
        "vision_feature_select_strategy": "default"
        if config_dict.get("mm_vision_select_feature") == "patch" and not siglip
        else "full",
        "vision_aspect_ratio": aspect,
        "image_unpad_rule": "truncate",  # LLaVA-NeXT's `unpad_image`
        "image_grid_pinpoints": transpose_pinpoints(
            parse_grid_pinpoints(config_dict.get("image_grid_pinpoints") or "(1x1),...,(6x6)", vision.image_size)
        ),
        "mm_projector_type": projector,
        "image_token_index": image_token_id,
        "video_token_index": video_token_id,
        "tie_word_embeddings": bool(config_dict.get("tie_word_embeddings", False)),
        "vision_tower_name_or_path": config_dict["mm_vision_tower"],
    }


def mmreason_to_llava_next(config: Any) -> dict[str, Any]:
    """A LLaVA-NeXT `config.json` dict for an mmreason config (LM fields at top level + `mm_*` fields).

    `mm_vision_config` carries the tower's shape as LLaVA-NeXT would read it from the Hub, so the folder loads back
    offline; LLaVA-NeXT itself ignores it and resolves `mm_vision_tower`.
    """
    if config.vision_feature_layer != -1 and "siglip" in config.vision_config.model_type:
        raise LlavaNextFormatError("LLaVA-NeXT's SigLIP tower is always read at its last kept layer (-1).")
    if config.image_unpad_rule != "truncate":
        raise LlavaNextFormatError(
            f"This model crops anyres features with image_unpad_rule={config.image_unpad_rule!r}; LLaVA-NeXT always "
            "truncates, so it would run the model with other image-token counts. Export it as mmreason or "
            "llava_onevision instead."
        )
    text = config.text_config.to_dict()
    vision = config.vision_config.to_dict()
    if "siglip" in config.vision_config.model_type:
        vision["num_hidden_layers"] += 1  # the Hub-shaped tower; LLaVA-NeXT deletes its last layer again
    text_type = config.text_config.model_type
    if text_type not in TEXT_MODEL_TO_ARCHITECTURE:
        raise LlavaNextFormatError(f"LLaVA-NeXT has no architecture for a {text_type!r} language model.")
    return {
        **{k: v for k, v in text.items() if k not in ("model_type", "architectures")},
        "architectures": [TEXT_MODEL_TO_ARCHITECTURE[text_type]],
        "model_type": TEXT_MODEL_TO_LLAVA_NEXT_TYPE.get(text_type, "llava"),
        "mm_vision_tower": config.vision_tower_name_or_path,
        "mm_vision_config": vision,
        "mm_hidden_size": config.vision_config.hidden_size,
        "mm_projector_type": config.mm_projector_type,
        "mm_vision_select_layer": -2 if "siglip" in config.vision_config.model_type else config.vision_feature_layer,
        "mm_vision_select_feature": "patch",
        "mm_patch_merge_type": "spatial_unpad",
        "mm_newline_position": "one_token",
        "mm_spatial_pool_mode": "bilinear",
        "mm_spatial_pool_stride": 2,
        "mm_use_im_start_end": False,
        "mm_use_im_patch_token": False,
        "image_aspect_ratio": config.vision_aspect_ratio,
        "image_grid_pinpoints": transpose_pinpoints(config.image_grid_pinpoints),
        "tie_word_embeddings": config.tie_word_embeddings,
    }


def write_json(path: str | os.PathLike, data: dict[str, Any]) -> None:
    """Pretty JSON with a trailing newline (as `save_pretrained` writes configs)."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, sort_keys=True, default=str)
        f.write("\n")
