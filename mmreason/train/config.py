"""`RationaleSFTConfig`: TRL's `SFTConfig` plus MAmmoTH-VL's stage presets and multimodal training settings.

    config = RationaleSFTConfig(output_dir="out", stage="si")   # lr 1e-5, vision tower 2e-6, max_length 8192, ...

Stage presets follow `scripts/train/mammoth_vl/*.sh` (LLaVA-NeXT):

| stage | tunable parts | lr / vision lr | template | max_length | other |
|---|---|---|---|---|---|
| `pretrain` | projector | 1e-3 / - | `plain` | 8192 | caption data |
| `si` | vision tower, projector, LM | 1e-5 / 2e-6 | `qwen_2_5` | 8192 | `group_by_modality_length` |
| `ov` | vision tower, projector, LM | 1e-5 / 2e-6 | `qwen_2_5` | 16384 | as `si` |

All presets use a cosine schedule, warmup ratio 0.03 and weight decay 0. A preset fills only fields the user did
not set (see [`MultimodalTrainingArguments`]): anything given in Python, a YAML recipe or on the command line wins,
even when it equals the library default. MAmmoTH-VL trained `si`/`ov` at `anyres_max_4` with 32 frames per video
(`STAGE_GEOMETRY`); that is model geometry, so a preset never applies it to a loaded checkpoint: set
`vision_aspect_ratio` / `frames_upbound` to change it (the trainer logs a note when the checkpoint differs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from trl import SFTConfig

from .multimodal_args import ALL_PARTS, TUNABLE_PARTS, MultimodalTrainingArguments, preset_field

_COMMON = {"lr_scheduler_type": "cosine", "warmup_steps": 0.03, "weight_decay": 0.0}  # warmup_steps < 1 is a ratio

STAGE_PRESETS: dict[str, dict[str, Any]] = {
    "pretrain": {
        **_COMMON,
        "mm_tunable_parts": "mm_mlp_adapter",
        "learning_rate": 1e-3,
        "chat_template_name": "plain",
        "label_mode": "assistant_only",  # = LLaVA-NeXT's preprocess_plain (caption + "\n")
        "max_length": 8192,
    },
    "si": {
        **_COMMON,
        "mm_tunable_parts": ALL_PARTS,
        "learning_rate": 1e-5,
        "mm_vision_tower_lr": 2e-6,
        "chat_template_name": "qwen_2_5",
        "label_mode": "llava_next",  # = LLaVA-NeXT's preprocess_qwen, what MAmmoTH-VL trained with
        "max_length": 8192,
        "group_by_modality_length": True,
    },
}
STAGE_PRESETS["ov"] = {**STAGE_PRESETS["si"], "max_length": 16384}
STAGE_GEOMETRY: dict[str, dict[str, Any]] = {
    "si": {"vision_aspect_ratio": "anyres_max_4"},
    "ov": {"vision_aspect_ratio": "anyres_max_4", "frames_upbound": 32},
}


@dataclass
class RationaleSFTConfig(MultimodalTrainingArguments, SFTConfig):
    """[`SFTConfig`] for multimodal rationale SFT: the fields of [`MultimodalTrainingArguments`] (stage presets,
    tunable parts, per-module learning rates, geometry, hygiene) plus:

    Args:
        stage: `pretrain`, `si` or `ov`: fill the MAmmoTH-VL stage settings the user left unset (see the module
            docstring).
        multimodal_packing: padding-free packing: samples share rows, with position-id restarts and
            block-diagonal (varlen) attention; the loss equals the unpacked batch's.
        max_length: samples longer than this (image tokens counted exactly) are dropped and reported before
            training, never truncated. `None` keeps everything. Unset: the preset's, else 8192.
    """

    stage_presets: ClassVar[dict[str, dict[str, Any]]] = STAGE_PRESETS
    stage_geometry: ClassVar[dict[str, dict[str, Any]]] = STAGE_GEOMETRY

    multimodal_packing: bool = field(default=False, metadata={"help": "Padding-free packing of each batch."})
    max_length: int | None = preset_field("Drop (never truncate) longer samples; None keeps all.", 8192)
    assistant_only_loss: bool = field(default=True, metadata={"help": "Loss on assistant turns only."})
    label_mode: str = preset_field(
        "assistant_only (generation markers) or llava_next (LLaVA-NeXT preprocess_qwen); see collator.py.",
        "assistant_only",
    )
    remove_unused_columns: bool = field(default=False, metadata={"help": "Keep `videos` and metadata columns."})


__all__ = ["ALL_PARTS", "STAGE_GEOMETRY", "STAGE_PRESETS", "TUNABLE_PARTS", "RationaleSFTConfig"]
