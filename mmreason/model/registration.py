"""Registration of the mmreason classes with the transformers Auto classes (idempotent)."""

from __future__ import annotations

import transformers
from transformers import (
    AutoConfig,
    AutoImageProcessor,
    AutoModel,
    AutoModelForImageTextToText,
    AutoModelForMultimodalLM,
    AutoProcessor,
    Qwen2Config,
)

from .configuration_mmreason import MMReasonConfig
from .image_processing_mmreason import MMReasonImageProcessor
from .llava_next_format import LlavaQwenConfig
from .modeling_mmreason import MMReasonForConditionalGeneration, MMReasonModel
from .processing_mmreason import MMReasonProcessor


def register() -> None:
    """Register config, models and processors for `model_type="mmreason"`.

    Also exposes the classes as attributes of the `transformers` module: TRL's `create_model_from_path` resolves
    `config.architectures[0]` there, so `SFTTrainer(model="path/to/mmreason-checkpoint")` works in-process.
    """
    AutoConfig.register(MMReasonConfig.model_type, MMReasonConfig, exist_ok=True)
    AutoModel.register(MMReasonConfig, MMReasonModel, exist_ok=True)
    AutoModelForImageTextToText.register(MMReasonConfig, MMReasonForConditionalGeneration, exist_ok=True)
    AutoModelForMultimodalLM.register(MMReasonConfig, MMReasonForConditionalGeneration, exist_ok=True)
    AutoImageProcessor.register(MMReasonConfig, image_processor_classes={"pil": MMReasonImageProcessor}, exist_ok=True)
    AutoProcessor.register(MMReasonConfig, MMReasonProcessor, exist_ok=True)
    # LLaVA-NeXT folders whose model_type is `llava_qwen` (LLaVA-NeXT's own) or `qwen2` (the edit its README asks
    # for) reach mmreason through the Auto classes. Transformers maps no image-text-to-text model to Qwen2Config,
    # so this only turns "unrecognized configuration" into mmreason's format check. The released OneVision configs
    # say `llava`, which transformers maps to its LLaVA-1.5 class; that mapping is left alone (load those with
    # `MMReasonForConditionalGeneration.from_pretrained` or convert them once with `mmreason convert`).
    AutoConfig.register(LlavaQwenConfig.model_type, LlavaQwenConfig, exist_ok=True)
    AutoProcessor.register(LlavaQwenConfig, MMReasonProcessor, exist_ok=True)
    for auto_class in (AutoModelForImageTextToText, AutoModelForMultimodalLM):
        for config_class in (LlavaQwenConfig, Qwen2Config):
            auto_class._model_mapping.register(config_class, MMReasonForConditionalGeneration, exist_ok=True)
    for cls in (MMReasonConfig, MMReasonModel, MMReasonForConditionalGeneration, MMReasonProcessor):
        setattr(transformers, cls.__name__, cls)
    setattr(transformers, MMReasonImageProcessor.__name__, MMReasonImageProcessor)


__all__ = ["register"]
