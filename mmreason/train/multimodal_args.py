"""Training arguments shared by mmreason's multimodal trainers: stage presets that never override what the user set,
the multimodal fields (tunable parts, per-module learning rates, geometry, hygiene) and device-aware defaults.

**Presets vs. explicit values.** A field a preset may fill has a [`PresetDefault`] marker as its dataclass default.
Whatever the user gives — a Python keyword, a YAML recipe key or a command-line flag, even a value equal to the
library default — replaces the marker, so `__post_init__` can tell "not set" from "set to the default": only
fields still holding the marker take the preset's value (or, without a preset, the marker's own default). This
works the same for `RationaleSFTConfig(...)`, `TrlParser` recipes (YAML keys become parser defaults) and CLI flags.

**Geometry is never a preset.** `vision_aspect_ratio` and `frames_upbound` change how a loaded model sees images
and videos, so they apply only when set explicitly; unset, the checkpoint's own values are kept.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

from transformers import TrainingArguments
from transformers.trainer_utils import SchedulerType
from transformers.utils import is_torch_bf16_gpu_available, is_torch_xla_available

TUNABLE_PARTS = ("mm_vision_tower", "mm_mlp_adapter", "mm_language_model")
ALL_PARTS = ",".join(TUNABLE_PARTS)


INHERIT = object()


class PresetDefault:
    """Dataclass default of a field a stage preset may fill: "not set by the user". Without a preset value it
    falls back to `value`, or (`INHERIT`) to the default the next config class in the MRO gives the field, so TRL's
    own defaults (which differ between its trainers) stay in charge."""

    __slots__ = ("value",)

    def __init__(self, value: Any = INHERIT):
        self.value = value

    def __repr__(self) -> str:
        default = "the trainer's default" if self.value is INHERIT else repr(self.value)
        return f"{default} unless the stage preset sets it"


def preset_field(help: str, value: Any = INHERIT) -> Any:
    """A dataclass field whose default is `PresetDefault(value)`."""
    text = f"{help} Unset: the stage preset's value, else the usual default."
    return field(default=PresetDefault(value), metadata={"help": text})


def _fallback(cls: type, name: str, marker: PresetDefault) -> Any:
    if marker.value is not INHERIT:
        return marker.value
    for base in cls.__mro__:
        inherited = base.__dict__.get("__dataclass_fields__", {}).get(name)
        if inherited is not None and not isinstance(inherited.default, PresetDefault):
            if inherited.default_factory is not dataclasses.MISSING:
                return inherited.default_factory()
            return inherited.default
    raise TypeError(f"{cls.__name__}.{name}: no default to fall back to")


def resolve_presets(config: Any, preset: dict[str, Any]) -> set[str]:
    """Replace every [`PresetDefault`] left on `config` by `preset`'s value, else the field's fallback default;
    returns the names filled from `preset`."""
    filled = set()
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if isinstance(value, PresetDefault):
            if f.name in preset:
                setattr(config, f.name, preset[f.name])
                filled.add(f.name)
            else:
                setattr(config, f.name, _fallback(type(config), f.name, value))
    return filled


@dataclass
class MultimodalTrainingArguments:
    """Mixin (put it before the TRL config class) with the multimodal fields. Fields beyond TRL's:

    Args:
        stage: a key of the subclass' `stage_presets`: fill the stage's settings wherever the user set nothing.
        mm_tunable_parts: comma-separated parts to train: `mm_vision_tower`, `mm_mlp_adapter` (projector and
            `image_newline`), `mm_language_model` (LM and LM head). The rest is frozen.
        mm_vision_tower_lr: learning rate of the vision tower (default: `learning_rate`).
        mm_projector_lr: learning rate of the projector and `image_newline` (default: `learning_rate`).
        group_by_modality_length: batches hold either multimodal or text-only samples of similar length
            (LLaVA's `group_by_modality_length` sampler).
        chat_template_name: `qwen_2_5` or `plain` (projector pre-training), set on the processor.
        vision_aspect_ratio: `anyres_max_N` set on the model config and processor (default: keep the model's).
        frames_upbound: at most this many frames per video, set on the processor (default: keep the processor's
            `max_frames`).
        drop_invalid: also drop (and report) rows with placeholder/media count mismatches, unreadable images,
            empty turns or a wrong role order, instead of failing mid-run.
        max_drop_fraction: stop before training (`TooManyDropsError`, with the per-reason counts and the drop
            report's path) when the training set keeps no rows or sample hygiene drops more than this fraction of
            them (map-style datasets; a stream is filtered as it is read).

    Defaults that differ from TRL's when left unset:
    * `activation_checkpointing` is on (TRL's default, but without the deprecated `gradient_checkpointing` key and
      its warning);
    * `bf16` is on only where a bf16-capable accelerator is used (TRL turns it on everywhere, which fails on a CPU);
    * `ddp_find_unused_parameters` is `False` (TRL sets `True` for vision-language models): every trainable
      parameter gets a gradient, text-only batches included (zero-weight vision forward).
    """

    stage_presets: ClassVar[dict[str, dict[str, Any]]] = {}
    stage_geometry: ClassVar[dict[str, dict[str, Any]]] = {}  # what each stage trained at: logged, never applied

    stage: str | None = field(default=None, metadata={"help": "Stage preset (fills only what is not set)."})
    mm_tunable_parts: str = preset_field("Comma-separated parts to train (all).", ALL_PARTS)
    mm_vision_tower_lr: float | None = preset_field("Vision tower learning rate (None: learning_rate).", None)
    mm_projector_lr: float | None = field(default=None, metadata={"help": "Projector learning rate."})
    group_by_modality_length: bool = preset_field("Group batches by modality + length (False).", False)
    chat_template_name: str | None = preset_field("qwen_2_5 or plain (None: the processor's).", None)
    vision_aspect_ratio: str | None = field(
        default=None, metadata={"help": "anyres_max_N for model + processor (default: keep the model's)."}
    )
    frames_upbound: int | None = field(
        default=None, metadata={"help": "Most frames sampled per video (default: the processor's max_frames)."}
    )
    drop_invalid: bool = field(default=True, metadata={"help": "Drop and report rows that cannot be trained on."})
    max_drop_fraction: float = field(
        default=0.5, metadata={"help": "Stop before training if no row is kept or more than this fraction is dropped."}
    )
    # TrainingArguments fields the presets fill
    learning_rate: float = preset_field("The initial learning rate for AdamW.")
    lr_scheduler_type: SchedulerType | str = preset_field("The learning rate scheduler type.")  # noqa: RUF009
    warmup_steps: float = preset_field("Warmup steps (an int) or ratio of total steps (a float < 1).")
    weight_decay: float = preset_field("Weight decay of the optimizer (not on biases and norms).")
    # TRL defaults the deprecated `gradient_checkpointing` to True, which warns on every config; unset, both are
    # None here and `activation_checkpointing` becomes True (TRL's default) unless the user set either name
    activation_checkpointing: bool | None = field(
        default=None, metadata=dict(TrainingArguments.__dataclass_fields__["activation_checkpointing"].metadata)
    )
    gradient_checkpointing: bool | None = field(
        default=None, metadata=dict(TrainingArguments.__dataclass_fields__["gradient_checkpointing"].metadata)
    )

    def __post_init__(self) -> None:
        if self.stage is not None and self.stage not in self.stage_presets:
            raise ValueError(f"stage must be one of {list(self.stage_presets)}, not {self.stage!r}")
        self.preset_filled = resolve_presets(self, self.stage_presets.get(self.stage, {}))
        if not 0 <= self.max_drop_fraction <= 1:
            raise ValueError(f"max_drop_fraction must be between 0 and 1, not {self.max_drop_fraction}")
        unknown = set(self.tunable_parts) - set(TUNABLE_PARTS)
        if unknown:
            raise ValueError(f"unknown mm_tunable_parts {sorted(unknown)}; choose from {TUNABLE_PARTS}")
        if self.activation_checkpointing is None and self.gradient_checkpointing is None:
            self.activation_checkpointing = True
        if self.bf16 is None:
            accelerator_bf16 = is_torch_bf16_gpu_available() or is_torch_xla_available()
            self.bf16 = not self.fp16 and not self.use_cpu and accelerator_bf16
        if self.ddp_find_unused_parameters is None:
            self.ddp_find_unused_parameters = False
        super().__post_init__()

    @property
    def tunable_parts(self) -> list[str]:
        """`mm_tunable_parts` as a list."""
        return [part.strip() for part in self.mm_tunable_parts.split(",") if part.strip()]


__all__ = [
    "ALL_PARTS",
    "INHERIT",
    "TUNABLE_PARTS",
    "MultimodalTrainingArguments",
    "PresetDefault",
    "preset_field",
    "resolve_presets",
]
