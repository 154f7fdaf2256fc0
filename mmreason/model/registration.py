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
)

from .configuration_mmreason import MMReasonConfig
from .image_processing_mmreason import MMReasonImageProcessor
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
    for cls in (MMReasonConfig, MMReasonModel, MMReasonForConditionalGeneration, MMReasonProcessor):
        setattr(transformers, cls.__name__, cls)
    setattr(transformers, MMReasonImageProcessor.__name__, MMReasonImageProcessor)


__all__ = ["register"]
