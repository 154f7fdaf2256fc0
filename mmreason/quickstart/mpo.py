"""Stage 3: MPO on the MMPR correctness pairs ([`MPOTrainer`], InternVL's sigmoid + bco_pair + sft loss)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import datasets

from ..train import MPOConfig, MPOTrainer
from .presets import Preset
from .training import common_args, loss_curve, save_stage


def run_mpo(model: Any, processor: Any, pairs: datasets.Dataset, preset: Preset, out: Path, seed: int) -> dict:
    """Train `model` with MPO's recipe (stage `mpo`: loss terms and weights, beta 0.1) on the preference rows
    `pairs`, the reference a frozen copy of `model`; saves to `out`."""
    args = MPOConfig(
        **common_args(out, preset.mpo_steps, preset.batch_size, preset.mpo_lr, seed),
        max_length=None,
        activation_checkpointing=False,
    )
    trainer = MPOTrainer(model=model, args=args, train_dataset=pairs, processing_class=processor)
    trainer.train()
    save_stage(trainer, processor, out)
    return {"model": (trainer.model.eval(), processor), "curves": loss_curve(trainer.state.log_history), "path": out}


__all__ = ["run_mpo"]
