"""Which parameters train, at which learning rate, and LoRA targets, by LLaVA-NeXT's module names.

| part (`mm_tunable_parts`) | modules |
|---|---|
| `mm_vision_tower` | `model.vision_tower` (minus SigLIP's unused `post_layernorm`/`head`) |
| `mm_mlp_adapter` | `model.multi_modal_projector`, `model.image_newline` |
| `mm_language_model` | `model.language_model`, `lm_head` |
"""

from __future__ import annotations

from typing import Any

from torch import nn

PART_PREFIXES = {
    "mm_vision_tower": ("model.vision_tower.",),
    "mm_mlp_adapter": ("model.multi_modal_projector.", "model.image_newline"),
    "mm_language_model": ("model.language_model.", "lm_head."),
}
LM_LORA_TARGETS = r".*language_model.*\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)"


def part_of(name: str) -> str | None:
    """The `mm_tunable_parts` part a parameter name belongs to (PEFT prefixes are ignored)."""
    name = name.split("base_model.model.", 1)[-1]
    for part, prefixes in PART_PREFIXES.items():
        if name.startswith(prefixes):
            return part
    return None


def set_tunable_parts(model: nn.Module, parts: list[str]) -> dict[str, int]:
    """Freeze everything outside `parts` (and SigLIP's unused `post_layernorm`/`head`); returns trainable counts."""
    from ..model.modeling_mmreason import UNUSED_VISION_MODULES

    unused = tuple(f"model.vision_tower.{name}." for name in UNUSED_VISION_MODULES)
    counts = dict.fromkeys(PART_PREFIXES, 0)
    for name, param in model.named_parameters():
        part = part_of(name)
        param.requires_grad_(part in parts and not name.startswith(unused))
        if param.requires_grad:
            counts[part] += param.numel()
    return counts


def parameter_groups(
    model: nn.Module,
    learning_rate: float,
    weight_decay: float,
    decay_names: set[str],
    lrs: dict[str, float | None],
) -> list[dict[str, Any]]:
    """Optimizer groups: one per (part learning rate, decay or not); `lrs` maps part → lr (`None`: the base lr)."""
    groups: dict[tuple[float, bool], list[nn.Parameter]] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        lr = lrs.get(part_of(name) or "") or learning_rate
        groups.setdefault((lr, name in decay_names), []).append(param)
    return [
        {"params": params, "lr": lr, "weight_decay": weight_decay if decay else 0.0}
        for (lr, decay), params in sorted(groups.items(), key=lambda item: (-item[0][0], not item[0][1]))
    ]


def lora_config(r: int = 64, alpha: int = 16, dropout: float = 0.05, train_projector: bool = True, **kwargs: Any):
    """A `peft.LoraConfig` for the language model's attention and MLP projections, with the projector fully trained
    through `modules_to_save`. The vision tower and `lm_head` get no adapters (TRL's fused LM head needs a plain
    `lm_head`). `image_newline` is a bare parameter, which `modules_to_save` cannot hold: [`RationaleSFTTrainer`]
    trains it with the projector (see [`train_image_newline`]) and saves it into the adapter file."""
    from peft import LoraConfig

    return LoraConfig(
        r=r,
        lora_alpha=alpha,
        lora_dropout=dropout,
        target_modules=LM_LORA_TARGETS,
        modules_to_save=["multi_modal_projector"] if train_projector else None,
        task_type="CAUSAL_LM",
        **kwargs,
    )


def image_newline_name(model: nn.Module) -> str | None:
    """The full name of the `image_newline` parameter in `model` (PEFT-wrapped or not), if it has one."""
    return next(
        (name for name, _ in model.named_parameters() if part_of(name) and name.endswith("image_newline")), None
    )


def train_image_newline(model: nn.Module, peft_config: Any) -> str | None:
    """Under PEFT, make `image_newline` trainable when the projector is (`multi_modal_projector` in
    `modules_to_save`), so the `mm_mlp_adapter` part trains as a whole; returns its parameter name, else `None`."""
    if "multi_modal_projector" not in (getattr(peft_config, "modules_to_save", None) or []):
        return None
    name = image_newline_name(model)
    if name is not None:
        model.get_parameter(name).requires_grad_(True)
    return name


__all__ = [
    "LM_LORA_TARGETS",
    "PART_PREFIXES",
    "image_newline_name",
    "lora_config",
    "parameter_groups",
    "part_of",
    "set_tunable_parts",
    "train_image_newline",
]
