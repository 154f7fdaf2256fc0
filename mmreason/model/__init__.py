"""The mmreason MLLM: config, model, image processor, processor and chat templates.

Using any of the model classes registers everything with the transformers Auto classes (`AutoConfig`,
`AutoModel`, `AutoModelForImageTextToText`, `AutoModelForMultimodalLM`, `AutoImageProcessor`, `AutoProcessor`);
`import mmreason` alone already arranges it (see `mmreason._auto_registration`). Attributes are imported on first
use (PEP 562), so `mmreason.model.image_io` or `chat_templates` alone do not pull in torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "CHAT_TEMPLATES": "chat_templates",
    "PLAIN": "chat_templates",
    "QWEN_2_5": "chat_templates",
    "QWEN_EVAL_SYSTEM": "chat_templates",
    "QWEN_TRAIN_SYSTEM": "chat_templates",
    "compose_pretrained": "compose",
    "MMReasonConfig": "configuration_mmreason",
    "parse_anyres_max": "configuration_mmreason",
    "parse_grid_pinpoints": "configuration_mmreason",
    "CorruptImageError": "image_io",
    "ImageError": "image_io",
    "ImageTooLargeError": "image_io",
    "UnsupportedImageModeError": "image_io",
    "MMReasonImageProcessor": "image_processing_mmreason",
    "MMReasonForConditionalGeneration": "modeling_mmreason",
    "MMReasonModel": "modeling_mmreason",
    "MMReasonProcessor": "processing_mmreason",
    "register": "registration",
}
#: modules whose classes must be registered with the Auto classes before they are handed out
_REGISTERED = {"configuration_mmreason", "image_processing_mmreason", "modeling_mmreason", "processing_mmreason"}


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f".{_EXPORTS[name]}", __name__)
    if _EXPORTS[name] in _REGISTERED:
        from .._auto_registration import register_now

        register_now()
    return getattr(module, name)


__all__ = sorted(_EXPORTS)
