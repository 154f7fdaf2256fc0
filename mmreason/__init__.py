"""mmreason: multimodal-reasoning recipes (MAmmoTH-VL, VisualWebInstruct, Math-PUMA, MPO) for the HF stack.

`import mmreason` registers the `mmreason` model type with transformers' Auto classes: at once when transformers'
Auto machinery is already loaded, else as soon as it loads (`mmreason._auto_registration`), so that importing
mmreason alone stays cheap (no torch). The model classes are imported on first use (PEP 562).
"""

from __future__ import annotations

import importlib
from typing import Any

from . import _auto_registration

__version__ = "0.1.0.dev0"

_MODEL_EXPORTS = (
    "MMReasonConfig",
    "MMReasonForConditionalGeneration",
    "MMReasonImageProcessor",
    "MMReasonModel",
    "MMReasonProcessor",
)

_auto_registration.install()


def __getattr__(name: str) -> Any:
    if name in _MODEL_EXPORTS:
        return getattr(importlib.import_module(".model", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [*_MODEL_EXPORTS, "__version__"]
