"""What the three training stages share: common `TrainingArguments` fields, loss curves, saving."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

#: the log-history keys that are losses (TRL's/transformers' `loss`, MPO's and PUMA's own terms)
LOSS_KEYS = ("loss", "kl_loss", "ce_loss", "rewards/accuracies")


def common_args(output_dir: Path, steps: int, batch_size: int, learning_rate: float, seed: int) -> dict[str, Any]:
    """`TrainingArguments` fields every quickstart stage uses: a cosine schedule over `steps`, a loss log every few
    steps (the loss curves), transformers' progress bar, no intermediate checkpoints (the stage saves its model)."""
    on_gpu = torch.cuda.is_available()
    return {
        "output_dir": str(output_dir),
        "max_steps": steps,
        "per_device_train_batch_size": batch_size,
        "learning_rate": learning_rate,
        "lr_scheduler_type": "cosine",
        "warmup_steps": 0.05,
        "weight_decay": 0.0,
        "logging_steps": max(1, steps // 25),
        "disable_tqdm": False,
        "save_strategy": "no",
        "report_to": "none",
        "use_cpu": not on_gpu,
        "bf16": on_gpu and torch.cuda.is_bf16_supported(),
        "seed": seed,
        "dataloader_num_workers": 0,
    }


def loss_curve(log_history: list[dict[str, Any]]) -> dict[str, list[tuple[int, float]]]:
    """`{key: [(step, value), ...]}` for each loss key the trainer logged during training."""
    curves: dict[str, list[tuple[int, float]]] = {}
    for entry in log_history:
        for key in LOSS_KEYS:
            if key in entry and "step" in entry:
                curves.setdefault(key, []).append((int(entry["step"]), float(entry[key])))
    return curves


def save_stage(trainer: Any, processor: Any, output_dir: Path) -> Path:
    """Save the trained model and its processor in the normal checkpoint format (Auto classes load them)."""
    trainer.save_model(str(output_dir))
    processor.save_pretrained(str(output_dir))
    return output_dir


__all__ = ["LOSS_KEYS", "common_args", "loss_curve", "save_stage"]
