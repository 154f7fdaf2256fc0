"""`PUMAConfig`: `transformers.TrainingArguments` plus Math-PUMA's KL settings and the Stage-2 preset.

    config = PUMAConfig(output_dir="puma-stage2")  # stage="stage2": vision tower + projector, lr 3e-5, ...

The `stage2` preset (the default stage) follows Math-PUMA's `train/qwen2/train_script.py` with the README's Stage-2
recipe (`USE_KL=true`, the vision tower and the aligner trainable, the LLM frozen):

| field | value |
|---|---|
| `mm_tunable_parts` | `mm_vision_tower,mm_mlp_adapter` (LM frozen) |
| `learning_rate` / `lr_scheduler_type` | 3e-5, cosine |
| `warmup_steps` | 0.01 (a ratio) |
| `weight_decay` | 0.1 |
| `max_length` | 2048 (`MODEL_MAX_LENGTH`; here a pair is dropped, never truncated, when either side is longer) |

Like every mmreason preset it fills only what the user left unset (see [`MultimodalTrainingArguments`]). The KL
fields default to the script's `ALPHA_KL=0.5`, `LAMBDA_KL=0.1`, `TEMP_KL=1.0` (not `train/args.py`'s dataclass
defaults, which the script overrides). The script's per-device batch 1 x 16 accumulation x 8 GPUs, bf16 and seed 3407
are hardware/run choices left to the recipe (`examples/recipes/puma_stage2.yaml`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from transformers import TrainingArguments

from .multimodal_args import MultimodalTrainingArguments, preset_field
from .puma_loss import LOSS_MODES

PUMA_STAGE_PRESETS: dict[str, dict[str, Any]] = {
    "stage2": {
        "mm_tunable_parts": "mm_vision_tower,mm_mlp_adapter",
        "learning_rate": 3e-5,
        "lr_scheduler_type": "cosine",
        "warmup_steps": 0.01,  # < 1: a ratio of the total steps
        "weight_decay": 0.1,
        "max_length": 2048,
    },
}


@dataclass
class PUMAConfig(MultimodalTrainingArguments, TrainingArguments):
    """[`TrainingArguments`] for Math-PUMA's KL alignment: the fields of [`MultimodalTrainingArguments`] (stage
    presets, tunable parts, per-module learning rates, geometry, hygiene) plus:

    Args:
        stage: `stage2` (default; see the module docstring) or `None` for no preset.
        alpha_kl: alpha, the weight of KL(P_w‖P_s) in `faithful` mode (the released `fkl`), of the forward
            KL(P_s‖P_w) in `corrected` mode; 0.5 weighs both directions equally in either mode.
        lambda_kl: λ, the weight of the KL term; the student's cross-entropy gets 1 - λ.
        temperature_kl: T, dividing the z-scored logits.
        loss_mode: `faithful` (the released `compute_loss`: unshifted positions, `batchmean`, T² twice) or
            `corrected` (next-token positions, token mean, T² once); see `puma_loss.py`.
        kl_chunk_size: aligned answer positions per KL chunk (forward and backward); `0` or `None`: all at once.
        max_length: pairs where either side is longer (image tokens counted exactly) are dropped and reported before
            training, never truncated. `None` keeps everything.
        dataset_num_proc / model_init_kwargs: as in TRL's configs (processes for the hygiene check; keyword
            arguments for `from_pretrained` when the model is a path).
    """

    stage_presets: ClassVar[dict[str, dict[str, Any]]] = PUMA_STAGE_PRESETS

    stage: str | None = field(default="stage2", metadata={"help": "Stage preset (fills only what is not set)."})
    alpha_kl: float = field(default=0.5, metadata={"help": "Weight of the first KL direction (see loss_mode)."})
    lambda_kl: float = field(default=0.1, metadata={"help": "Weight of the KL term (CE gets 1 - lambda_kl)."})
    temperature_kl: float = field(default=1.0, metadata={"help": "Temperature of the z-scored logits."})
    loss_mode: str = field(default="faithful", metadata={"help": "faithful (released formula) or corrected."})
    kl_chunk_size: int | None = field(default=256, metadata={"help": "Answer positions per KL chunk (0: all)."})
    max_length: int | None = preset_field("Drop (never truncate) pairs with a longer side; None keeps all.", 2048)
    dataset_num_proc: int | None = field(default=None, metadata={"help": "Processes for the sample hygiene check."})
    model_init_kwargs: dict[str, Any] | None = field(
        default=None, metadata={"help": "Keyword arguments for from_pretrained when the model is a path."}
    )
    bf16: bool | None = field(
        default=None, metadata={"help": "bf16 mixed precision (unset: on where a bf16-capable accelerator is used)."}
    )
    remove_unused_columns: bool = field(default=False, metadata={"help": "Keep the pair columns (always False)."})

    def __post_init__(self) -> None:
        if self.loss_mode not in LOSS_MODES:
            raise ValueError(f"loss_mode must be one of {LOSS_MODES}, not {self.loss_mode!r}")
        if not 0 <= self.alpha_kl <= 1 or not 0 <= self.lambda_kl <= 1:
            raise ValueError(f"alpha_kl and lambda_kl must lie in [0, 1], not {self.alpha_kl}, {self.lambda_kl}")
        if self.temperature_kl <= 0:
            raise ValueError(f"temperature_kl must be positive, not {self.temperature_kl}")
        super().__post_init__()


__all__ = ["PUMA_STAGE_PRESETS", "PUMAConfig"]
