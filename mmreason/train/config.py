"""`RationaleSFTConfig`: TRL's `SFTConfig` plus MAmmoTH-VL's stage presets and multimodal training settings.

    config = RationaleSFTConfig(output_dir="out", stage="si")   # lr 1e-5, vision tower 2e-6, max_length 8192, ...

Stage presets follow `scripts/train/mammoth_vl/*.sh` (LLaVA-NeXT):

| stage | tunable parts | lr / vision lr | template | max_length | other |
|---|---|---|---|---|---|
| `pretrain` | projector | 1e-3 / - | `plain` | 8192 | caption data |
| `si` | vision tower, projector, LM | 1e-5 / 2e-6 | `qwen_2_5` | 8192 | `group_by_modality_length` |
| `ov` | vision tower, projector, LM | 1e-5 / 2e-6 | `qwen_2_5` | 16384 | `frames_upbound` 32 |

All presets use a cosine schedule, warmup ratio 0.03 and weight decay 0. A preset only fills fields left at their
default, so anything set explicitly (in Python, a YAML recipe or on the command line) wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from trl import SFTConfig

TUNABLE_PARTS = ("mm_vision_tower", "mm_mlp_adapter", "mm_language_model")
ALL_PARTS = ",".join(TUNABLE_PARTS)
_COMMON = {"lr_scheduler_type": "cosine", "warmup_steps": 0.03, "weight_decay": 0.0}  # warmup_steps < 1 is a ratio

STAGE_PRESETS: dict[str, dict[str, Any]] = {
    "pretrain": {
        **_COMMON,
        "mm_tunable_parts": "mm_mlp_adapter",
        "learning_rate": 1e-3,
        "chat_template_name": "plain",
        "max_length": 8192,
    },
    "si": {
        **_COMMON,
        "mm_tunable_parts": ALL_PARTS,
        "learning_rate": 1e-5,
        "mm_vision_tower_lr": 2e-6,
        "chat_template_name": "qwen_2_5",
        "vision_aspect_ratio": "anyres_max_4",
        "max_length": 8192,
        "group_by_modality_length": True,
    },
}
STAGE_PRESETS["ov"] = {**STAGE_PRESETS["si"], "max_length": 16384, "frames_upbound": 32}


@dataclass
class RationaleSFTConfig(SFTConfig):
    """[`SFTConfig`] for multimodal rationale SFT. Fields beyond TRL's:

    Args:
        stage: `pretrain`, `si` or `ov`: fill the MAmmoTH-VL stage settings (see the module docstring).
        mm_tunable_parts: comma-separated parts to train: `mm_vision_tower`, `mm_mlp_adapter` (projector and
            `image_newline`), `mm_language_model` (LM and LM head). The rest is frozen.
        mm_vision_tower_lr: learning rate of the vision tower (default: `learning_rate`).
        mm_projector_lr: learning rate of the projector and `image_newline` (default: `learning_rate`).
        group_by_modality_length: batches hold either multimodal or text-only samples of similar length
            (LLaVA's `group_by_modality_length` sampler).
        multimodal_packing: padding-free packing: each batch becomes one row with position-id restarts and
            block-diagonal (varlen) attention; the loss equals the unpacked batch's.
        max_length: samples longer than this (image tokens counted exactly) are dropped and reported before
            training, never truncated. `None` keeps everything.
        chat_template_name: `qwen_2_5` or `plain` (projector pre-training), set on the processor.
        vision_aspect_ratio: `anyres_max_N` set on the model config and processor (default: keep the model's).
        frames_upbound: at most this many frames are sampled uniformly from each video.
        drop_invalid: also drop (and report) rows with placeholder/media count mismatches, unreadable images,
            empty turns or a wrong role order, instead of failing mid-run.
    """

    stage: str | None = field(default=None, metadata={"help": "pretrain, si or ov: MAmmoTH-VL stage preset."})
    mm_tunable_parts: str = field(default=ALL_PARTS, metadata={"help": "Comma-separated parts to train."})
    mm_vision_tower_lr: float | None = field(default=None, metadata={"help": "Vision tower learning rate."})
    mm_projector_lr: float | None = field(default=None, metadata={"help": "Projector learning rate."})
    group_by_modality_length: bool = field(default=False, metadata={"help": "Group batches by modality + length."})
    multimodal_packing: bool = field(default=False, metadata={"help": "Padding-free packing of each batch."})
    chat_template_name: str | None = field(default=None, metadata={"help": "qwen_2_5 or plain."})
    vision_aspect_ratio: str | None = field(default=None, metadata={"help": "anyres_max_N for model + processor."})
    frames_upbound: int = field(default=32, metadata={"help": "Most frames sampled per video."})
    drop_invalid: bool = field(default=True, metadata={"help": "Drop and report rows that cannot be trained on."})
    max_length: int | None = field(default=8192, metadata={"help": "Drop (never truncate) longer samples."})
    assistant_only_loss: bool = field(default=True, metadata={"help": "Loss on assistant turns only."})
    remove_unused_columns: bool = field(default=False, metadata={"help": "Keep `videos` and metadata columns."})

    def __post_init__(self) -> None:
        if self.stage is not None:
            if self.stage not in STAGE_PRESETS:
                raise ValueError(f"stage must be one of {list(STAGE_PRESETS)}, not {self.stage!r}")
            defaults = {f.name: f.default for f in fields(self)}
            for key, value in STAGE_PRESETS[self.stage].items():
                if getattr(self, key) == defaults.get(key):
                    setattr(self, key, value)
        unknown = set(self.tunable_parts) - set(TUNABLE_PARTS)
        if unknown:
            raise ValueError(f"unknown mm_tunable_parts {sorted(unknown)}; choose from {TUNABLE_PARTS}")
        super().__post_init__()

    @property
    def tunable_parts(self) -> list[str]:
        """`mm_tunable_parts` as a list."""
        return [part.strip() for part in self.mm_tunable_parts.split(",") if part.strip()]


__all__ = ["ALL_PARTS", "STAGE_PRESETS", "TUNABLE_PARTS", "RationaleSFTConfig"]
