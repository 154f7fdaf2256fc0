"""Registration of the mmreason classes with the transformers Auto classes (idempotent).

LLaVA-NeXT releases (MAmmoTH-VL, lmms-lab/llava-onevision-qwen2-*) carry a language model's `config.json` plus
`mm_*` fields under `model_type` `llava` (as released), `qwen2` (LLaVA-NeXT#130's edit) or `llava_qwen`. They are
routed to mmreason by their *markers*, not their model type: for each of these model types, `AutoConfig` is given a
config class (registered with the public `AutoConfig.register`) whose `from_dict` returns an `MMReasonConfig` for a
config dict with LLaVA-NeXT markers and, for every other dict, exactly what the stock class returns. Direct
construction (`AutoConfig.for_model("llava", ...)`, sub-config defaults) also gives the stock class. So
`AutoConfig`, `AutoModelForImageTextToText`, `AutoModelForMultimodalLM`, `AutoProcessor` and
`pipeline("image-text-to-text")` see an `MMReasonConfig` for a LLaVA-NeXT folder, and a stock `LlavaConfig` /
`Qwen2Config` (hence the stock model, processor and tokenizer classes) for everything else; no model mapping of
a stock config class is touched.
"""

from __future__ import annotations

from typing import Any

import transformers
from transformers import (
    AutoConfig,
    AutoImageProcessor,
    AutoModel,
    AutoModelForImageTextToText,
    AutoModelForMultimodalLM,
    AutoProcessor,
    LlavaConfig,
    PreTrainedConfig,
    Qwen2Config,
)

from .configuration_mmreason import MMReasonConfig
from .image_processing_mmreason import MMReasonImageProcessor
from .llava_next_format import TEXT_MODEL_TO_LLAVA_NEXT_TYPE, LlavaNextFormatError, is_llava_next_config
from .modeling_mmreason import MMReasonForConditionalGeneration, MMReasonModel
from .processing_mmreason import MMReasonProcessor


def mmreason_config_from_llava_next_dict(config_dict: dict[str, Any], **kwargs: Any) -> MMReasonConfig:
    """`MMReasonConfig` for a LLaVA-NeXT `config.json` dict read by `AutoConfig.from_pretrained`.

    The folder (`name_or_path`, which `AutoConfig` passes on) gives the tokenizer's placeholder ids; the Hub
    revision is the one the config was read at (`_commit_hash`).
    """
    from .checkpoint_formats import to_mmreason_config_dict

    path = kwargs.get("name_or_path") or config_dict.get("_name_or_path")
    if not path:
        raise LlavaNextFormatError(
            "A LLaVA-NeXT config can only be converted with its folder (the tokenizer gives the <image>/<video> "
            "ids): use `MMReasonConfig.from_pretrained(path)`."
        )
    revision = config_dict.get("_commit_hash")
    converted = to_mmreason_config_dict(config_dict, path, **({"revision": revision} if revision else {}))
    return MMReasonConfig.from_dict(converted, **kwargs)


def llava_next_routing(stock: type[PreTrainedConfig] | None, model_type: str) -> type[PreTrainedConfig]:
    """The config class registered for `model_type`: LLaVA-NeXT config dicts become `MMReasonConfig`, anything
    else is built by `stock` (an instance of exactly `stock`), or raises when there is no stock class."""
    base = stock or PreTrainedConfig

    class LlavaNextRoutingConfig(base):  # type: ignore[misc, valid-type]
        __doc__ = f"`{model_type}` config: LLaVA-NeXT folders -> `MMReasonConfig`, others -> `{base.__name__}`."

        def __new__(cls, *args: Any, **kwargs: Any) -> PreTrainedConfig:
            if stock is None:
                raise LlavaNextFormatError(f"model_type {model_type!r} is only loaded from LLaVA-NeXT folders.")
            return stock(*args, **kwargs)

        @classmethod
        def from_dict(cls, config_dict: dict[str, Any], **kwargs: Any) -> Any:
            if is_llava_next_config(config_dict):
                return mmreason_config_from_llava_next_dict(config_dict, **kwargs)
            if stock is None:
                raise LlavaNextFormatError(
                    f"A {model_type!r} config without `mm_vision_tower` is not a LLaVA-NeXT checkpoint mmreason "
                    "can load."
                )
            return stock.from_dict(config_dict, **kwargs)

    LlavaNextRoutingConfig.model_type = model_type
    LlavaNextRoutingConfig.__name__ = LlavaNextRoutingConfig.__qualname__ = f"LlavaNextRouting{base.__name__}"
    return LlavaNextRoutingConfig


#: model_type -> the stock config class of the non-LLaVA-NeXT folders with that model type
ROUTED_MODEL_TYPES: dict[str, type[PreTrainedConfig] | None] = {
    "llava": LlavaConfig,  # the released OneVision / MAmmoTH-VL configs (edited for SGLang)
    "qwen2": Qwen2Config,  # the edit LLaVA-NeXT#130 asks for
    # LLaVA-NeXT's own model types (`llava_qwen`, `llava_llama`, ...), unknown to transformers
    **dict.fromkeys(TEXT_MODEL_TO_LLAVA_NEXT_TYPE.values()),
}


def register() -> None:
    """Register config, models and processors for `model_type="mmreason"` and route LLaVA-NeXT folders to them.

    Also exposes the classes as attributes of the `transformers` module: TRL's `create_model_from_path` resolves
    `config.architectures[0]` there, so `SFTTrainer(model="path/to/mmreason-checkpoint")` works in-process.
    """
    AutoConfig.register(MMReasonConfig.model_type, MMReasonConfig, exist_ok=True)
    AutoModel.register(MMReasonConfig, MMReasonModel, exist_ok=True)
    AutoModelForImageTextToText.register(MMReasonConfig, MMReasonForConditionalGeneration, exist_ok=True)
    AutoModelForMultimodalLM.register(MMReasonConfig, MMReasonForConditionalGeneration, exist_ok=True)
    AutoImageProcessor.register(MMReasonConfig, image_processor_classes={"pil": MMReasonImageProcessor}, exist_ok=True)
    AutoProcessor.register(MMReasonConfig, MMReasonProcessor, exist_ok=True)
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    for model_type, stock in ROUTED_MODEL_TYPES.items():
        # (not `.get`: transformers' lazy CONFIG_MAPPING.get ignores registered model types)
        current = CONFIG_MAPPING[model_type] if model_type in CONFIG_MAPPING else None  # noqa: SIM401
        if current is None or current is stock:  # not routed yet (idempotent)
            AutoConfig.register(model_type, llava_next_routing(stock, model_type), exist_ok=True)
    for cls in (MMReasonConfig, MMReasonModel, MMReasonForConditionalGeneration, MMReasonProcessor):
        setattr(transformers, cls.__name__, cls)
    setattr(transformers, MMReasonImageProcessor.__name__, MMReasonImageProcessor)


__all__ = ["ROUTED_MODEL_TYPES", "llava_next_routing", "mmreason_config_from_llava_next_dict", "register"]
