"""`MPOConfig`: TRL's `DPOConfig` with InternVL's Mixed Preference Optimization recipe as its defaults.

    config = MPOConfig(output_dir="mpo")               # sigmoid 0.8 + bco_pair 0.2 + sft 1.0, beta 0.1, lr 5e-6
    config = MPOConfig(output_dir="rpo", stage="rpo")  # sigmoid 1.0 + sft 1.0 (TRL's former rpo_alpha=1)

Presets (`stage`), each filling only what the user left unset (see [`MultimodalTrainingArguments`]):

| stage | loss_type / loss_weights | lr | schedule | epochs | weight decay |
|---|---|---|---|---|---|
| `mpo` (default) | sigmoid, bco_pair, sft / 0.8, 0.2, 1.0 | 5e-6 | cosine, warmup ratio 0.03 | 1 | 0.05 |
| `rpo` | sigmoid, sft / 1.0, 1.0 | 5e-6 | cosine, warmup ratio 0.03 | 1 | 0.05 |

`mpo` is InternVL2-8B-MPO's shell (`--loss_type sigmoid,bco_pair --sigmoid_loss_weight 0.8 --bco_pair_loss_weight 0.2
--rpo_alpha 1`, lr 5e-6, wd 0.05, warmup 0.03, cosine, 1 epoch; beta = TRL's default 0.1). `bco_pair` carries
InternVL's running reward shift δ (see [`MPOTrainer`]); `reward_shift=False` gives TRL 1.16's unshifted `bco_pair`.

**`max_length` drops, never truncates.** TRL's `DPOConfig.max_length` (default 1024) truncates every sequence in the
collator; here rows whose prompt + chosen or prompt + rejected is longer (image tokens counted exactly) are dropped
and listed in `output_dir/dropped_samples.jsonl` before training, and the collator never truncates. Default 8192
(mmreason's SFT default; InternVL2-8B-MPO used `max_seq_length 6144` with its 448 px tiles). `None` keeps all rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any, ClassVar

from trl import DPOConfig

from .multimodal_args import MultimodalTrainingArguments, PresetDefault, preset_field

MPO_LOSS_TYPES = ["sigmoid", "bco_pair", "sft"]
MPO_LOSS_WEIGHTS = [0.8, 0.2, 1.0]
#: loss types `MPOTrainer` computes from pair log-probs (TRL's others need per-token outputs or other inputs)
SUPPORTED_LOSS_TYPES = ("sigmoid", "hinge", "ipo", "bco_pair", "sft")

_RECIPE = {
    "learning_rate": 5e-6,
    "lr_scheduler_type": "cosine",
    "warmup_steps": 0.03,  # < 1: a ratio of the total steps
    "weight_decay": 0.05,
    "num_train_epochs": 1.0,
}
MPO_PRESETS: dict[str, dict[str, Any]] = {
    "mpo": {**_RECIPE, "loss_type": MPO_LOSS_TYPES, "loss_weights": MPO_LOSS_WEIGHTS},
    "rpo": {**_RECIPE, "loss_type": ["sigmoid", "sft"], "loss_weights": [1.0, 1.0]},
}


@dataclass
class MPOConfig(MultimodalTrainingArguments, DPOConfig):
    """[`DPOConfig`] for multimodal preference training on preference rows (`prompt`, `chosen`, `rejected`,
    `images`): the fields of [`MultimodalTrainingArguments`] plus:

    Args:
        stage: `mpo` (default: InternVL's MPO recipe) or `rpo` (sigmoid + sft, alpha 1); fills only unset fields.
        loss_type / loss_weights: any combination of `sigmoid`, `hinge`, `ipo`, `bco_pair`, `sft`, summed as
            `Σ w_i · mean(loss_i)` (TRL's rule). A `loss_type` given without `loss_weights` weighs every term 1.
        reward_shift: `bco_pair` subtracts InternVL's running mean δ of the rewards (TRL ≤ 0.28 semantics); `False`
            uses TRL 1.16's unshifted `bco_pair`.
        forward_mode: how a preference batch is run, a mode of `mmreason.train.preference_forward` (`plain`: TRL's
            own batch and forward, chosen rows then rejected rows).
        max_length: rows longer than this (either side, image tokens counted exactly) are dropped and reported
            before training, never truncated; `None` keeps all.
    """

    stage_presets: ClassVar[dict[str, dict[str, Any]]] = MPO_PRESETS

    stage: str | None = field(default="mpo", metadata={"help": "mpo (InternVL's recipe) or rpo (sigmoid + sft)."})
    # list fields: a default_factory, so that TrlParser keeps the "unset" marker as the flag's default
    loss_type: list[str] = field(
        default_factory=partial(PresetDefault, ["sigmoid"]),  # without a preset: TRL's default
        metadata={"help": "Loss terms. Unset: the stage preset's (mpo: sigmoid bco_pair sft)."},
    )
    loss_weights: list[float] | None = field(
        default_factory=partial(PresetDefault, None),
        metadata={"help": "Weight per loss term. Unset: the stage preset's (mpo: 0.8 0.2 1)."},
    )
    num_train_epochs: float = preset_field("Total number of training epochs (mpo: 1).")
    max_length: int | None = preset_field("Drop (never truncate) longer rows; None keeps all.", 8192)
    reward_shift: bool = field(default=True, metadata={"help": "bco_pair with InternVL's running reward mean δ."})
    forward_mode: str = field(default="plain", metadata={"help": "Preference forward mode (plain: TRL's)."})

    def __post_init__(self) -> None:
        if isinstance(self.loss_weights, PresetDefault) and not isinstance(self.loss_type, PresetDefault):
            self.loss_weights = None  # the preset's weights belong to the preset's loss types: TRL's equal weights
        super().__post_init__()
        unsupported = [name for name in self.loss_type if name not in SUPPORTED_LOSS_TYPES]
        if unsupported:
            raise ValueError(f"MPOConfig.loss_type {unsupported} not supported; choose from {SUPPORTED_LOSS_TYPES}")
        if self.f_divergence_type != "reverse_kl" or self.ld_alpha is not None or self.use_weighting:
            raise ValueError("MPOConfig supports neither f_divergence_type, ld_alpha nor use_weighting")
        if self.padding_free:
            raise ValueError("padding_free: use forward_mode='packed' (TRL disables padding_free for DPO)")


__all__ = ["MPO_LOSS_TYPES", "MPO_LOSS_WEIGHTS", "MPO_PRESETS", "SUPPORTED_LOSS_TYPES", "MPOConfig"]
