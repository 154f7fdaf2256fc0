"""Stage 4: Math-PUMA KL alignment on text-rich → vision-rich twins ([`PUMATrainer`], Stage-2 preset: the
vision tower and projector train, the language model is frozen)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import datasets

from ..train import PUMAConfig, PUMATrainer
from .presets import Preset
from .training import common_args, loss_curve, save_stage


def run_puma(model: Any, processor: Any, pairs: datasets.Dataset, preset: Preset, out: Path, seed: int) -> dict:
    """Align `model`'s vision-rich view to its text-rich view on the PUMA pair rows `pairs`; saves to `out`."""
    args = PUMAConfig(
        **common_args(out, preset.puma_steps, preset.batch_size, preset.puma_lr, seed),
        max_length=None,
    )
    trainer = PUMATrainer(model=model, args=args, train_dataset=pairs, processing_class=processor)
    trainer.train()
    save_stage(trainer, processor, out)
    return {"model": (trainer.model.eval(), processor), "curves": loss_curve(trainer.state.log_history), "path": out}


__all__ = ["run_puma"]
