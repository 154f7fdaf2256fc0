"""Stage 1: rationale SFT from random init on the procedural train split ([`RationaleSFTTrainer`])."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import datasets

from ..train import RationaleSFTConfig, RationaleSFTTrainer
from .presets import Preset
from .training import common_args, loss_curve, save_stage


def run_sft(model: Any, processor: Any, train: datasets.Dataset, preset: Preset, out: Path, seed: int) -> dict:
    """Train `model` on the canonical rows `train` (both views, both levels); saves to `out`; returns
    `{"model": (model, processor), "curves": ..., "path": out}`."""
    args = RationaleSFTConfig(
        **common_args(out, preset.sft_steps, preset.batch_size, preset.sft_lr, seed),
        max_length=None,  # the rows are short; nothing to drop
        activation_checkpointing=False,
    )
    trainer = RationaleSFTTrainer(model=model, args=args, train_dataset=train, processing_class=processor)
    trainer.train()
    save_stage(trainer, processor, out)
    return {"model": (trainer.model.eval(), processor), "curves": loss_curve(trainer.state.log_history), "path": out}


__all__ = ["run_sft"]
