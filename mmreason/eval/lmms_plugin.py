"""lmms-eval plugin: `pip install "mmreason[lmms]"`, then `lmms-eval --model mmreason --model_args pretrained=...`.

lmms-eval (0.7) discovers models through the `lmms_eval.models` entry-point group; mmreason's `pyproject.toml`
declares `mmreason = "mmreason.eval.lmms_plugin:manifests"`. This module stays import-light (the registry runs at
`lmms_eval.models` import time); the model class is imported by lmms-eval only when selected.
"""

from __future__ import annotations

CHAT_CLASS_PATH = "mmreason.eval.lmms_model.MMReasonLmms"


def manifests() -> list:
    """The `ModelManifest`s lmms-eval registers: `mmreason` (alias `mmreason_chat`), a chat model."""
    from lmms_eval.models.registry_v2 import ModelManifest

    return [ModelManifest(model_id="mmreason", chat_class_path=CHAT_CLASS_PATH, aliases=("mmreason_chat",))]


__all__ = ["CHAT_CLASS_PATH", "manifests"]
