"""Which model the demo serves: `MMREASON_MODEL` (any checkpoint mmreason loads: a local folder or a Hub id, the
LLaVA-NeXT releases such as MAmmoTH-VL-8B included), else the model `mmreason quickstart` trained in the current
folder, else a random tiny model (offline, no Hub; its answers are noise and the demo says so)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: the environment variable naming the checkpoint to serve
MODEL_ENV = "MMREASON_MODEL"
#: the quickstart's models, most trained first (`mmreason quickstart`'s default output folder)
QUICKSTART_MODELS = tuple(Path("mmreason-quickstart") / "models" / stage for stage in ("puma", "mpo", "sft"))


@dataclass
class ServedModel:
    """The backend the demo generates with and a one-line description for the page."""

    backend: Any
    description: str


def resolve_model(name: str | None = None) -> str | None:
    """`name`, else `$MMREASON_MODEL`, else the most trained quickstart model in the current folder, else `None`."""
    name = name or os.environ.get(MODEL_ENV)
    if name:
        return name
    found = next((path for path in QUICKSTART_MODELS if (path / "config.json").exists()), None)
    return None if found is None else str(found)


def load_served_model(name: str | None = None, system_prompt: str | None = None) -> ServedModel:
    """The demo's backend ([`TransformersBackend`], bf16 on a GPU) for [`resolve_model`]'s choice; the chat
    template's default system prompt unless `system_prompt` is given."""
    import torch

    from ..generation import TransformersBackend

    path = resolve_model(name)
    if path is None:
        from ..testing import build_tiny

        backend = TransformersBackend(build_tiny(), batch_size=1, system_prompt=system_prompt)
        return ServedModel(backend, f"a random tiny model (run `mmreason quickstart` here, or set {MODEL_ENV})")
    dtype = "bfloat16" if torch.cuda.is_available() else "float32"
    backend = TransformersBackend(path, batch_size=1, dtype=dtype, system_prompt=system_prompt)
    return ServedModel(backend, f"`{path}`")


__all__ = ["MODEL_ENV", "QUICKSTART_MODELS", "ServedModel", "load_served_model", "resolve_model"]
