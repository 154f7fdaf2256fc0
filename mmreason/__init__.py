"""mmreason: multimodal-reasoning recipes (MAmmoTH-VL, VisualWebInstruct, Math-PUMA, MPO) for the HF stack.

`import mmreason` registers the `mmreason` model type with transformers' Auto classes.
"""

from .model import (
    MMReasonConfig,
    MMReasonForConditionalGeneration,
    MMReasonImageProcessor,
    MMReasonModel,
    MMReasonProcessor,
)

__version__ = "0.1.0.dev0"

__all__ = [
    "MMReasonConfig",
    "MMReasonForConditionalGeneration",
    "MMReasonImageProcessor",
    "MMReasonModel",
    "MMReasonProcessor",
    "__version__",
]
