"""The mmreason MLLM: config, model, image processor, processor and chat templates.

Importing this package registers everything with the transformers Auto classes (`AutoConfig`, `AutoModel`,
`AutoModelForImageTextToText`, `AutoModelForMultimodalLM`, `AutoImageProcessor`, `AutoProcessor`).
"""

from .chat_templates import CHAT_TEMPLATES, PLAIN, QWEN_2_5, QWEN_EVAL_SYSTEM, QWEN_TRAIN_SYSTEM
from .compose import compose_pretrained
from .configuration_mmreason import MMReasonConfig, parse_anyres_max, parse_grid_pinpoints
from .image_io import CorruptImageError, ImageError, ImageTooLargeError, UnsupportedImageModeError
from .image_processing_mmreason import MMReasonImageProcessor
from .modeling_mmreason import MMReasonForConditionalGeneration, MMReasonModel
from .processing_mmreason import MMReasonProcessor
from .registration import register

register()

__all__ = [
    "CHAT_TEMPLATES",
    "PLAIN",
    "QWEN_2_5",
    "QWEN_EVAL_SYSTEM",
    "QWEN_TRAIN_SYSTEM",
    "CorruptImageError",
    "ImageError",
    "ImageTooLargeError",
    "MMReasonConfig",
    "MMReasonForConditionalGeneration",
    "MMReasonImageProcessor",
    "MMReasonModel",
    "MMReasonProcessor",
    "UnsupportedImageModeError",
    "compose_pretrained",
    "parse_anyres_max",
    "parse_grid_pinpoints",
    "register",
]
