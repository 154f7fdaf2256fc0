"""The `vllm.general_plugins` entry point."""

from __future__ import annotations

ARCHITECTURE = "LlavaOnevisionForConditionalGeneration"


def register() -> None:
    """Serve `LlavaOnevisionForConditionalGeneration` checkpoints with `FaithfulLlavaOnevision` (imported lazily by
    vLLM's registry, in the worker that loads the model)."""
    from vllm import ModelRegistry

    ModelRegistry.register_model(ARCHITECTURE, "mmreason_vllm.model:FaithfulLlavaOnevision")
