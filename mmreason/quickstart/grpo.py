"""Optional stage: GRPO with verifiable rewards from the SFT model ([`ReasoningGRPOTrainer`], the strict
`procedural` scorer as accuracy reward plus a 0.2 format reward), on the hard training prompts, stopped at a wall-time
budget (what SFT -> MPO took) so that SFT -> GRPO and SFT -> MPO are compared at equal wall time."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import datasets
from transformers import TrainerCallback

from ..model import MMReasonForConditionalGeneration, MMReasonProcessor
from ..train import ReasoningGRPOConfig, ReasoningGRPOTrainer
from .presets import Preset
from .training import common_args, loss_curve, save_stage


class TimeBudget(TrainerCallback):
    """Stops training once `seconds` of wall time have passed since training began."""

    def __init__(self, seconds: float):
        self.seconds, self.began = seconds, 0.0

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.began = time.perf_counter()

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if time.perf_counter() - self.began >= self.seconds:
            control.should_training_stop = True


def run_grpo(sft_path: Path, prompts: datasets.Dataset, preset: Preset, out: Path, seed: int,
             seconds: float) -> dict:  # fmt: skip
    """Load the SFT model from `sft_path` (the MPO stage trained the in-memory one), train on the hard rows of
    `prompts` for at most `preset.grpo_steps` steps or `seconds`; saves to `out`."""
    model = MMReasonForConditionalGeneration.from_pretrained(sft_path)
    processor = MMReasonProcessor.from_pretrained(sft_path)
    hard = [i for i, group in enumerate(prompts["quality_group"]) if group.startswith("hard-")]
    batch = max(preset.grpo_generations, preset.batch_size // preset.grpo_generations * preset.grpo_generations)
    args = ReasoningGRPOConfig(
        **{**common_args(out, preset.grpo_steps, batch, preset.grpo_lr, seed), "logging_steps": 1},
        num_generations=preset.grpo_generations, max_completion_length=preset.max_new_tokens, beta=0.0,
        temperature=1.0, accuracy_reward="procedural", format_reward_weight=0.2, gradient_checkpointing=False,
    )  # fmt: skip
    trainer = ReasoningGRPOTrainer(model=model, args=args, train_dataset=prompts.select(hard, keep_in_memory=True),
                                   processing_class=processor, callbacks=[TimeBudget(seconds)])  # fmt: skip
    trainer.train()
    save_stage(trainer, processor, out)
    curves = loss_curve(trainer.state.log_history)
    curves["reward"] = [(int(e["step"]), float(e["reward"])) for e in trainer.state.log_history if "reward" in e]
    return {"model": (trainer.model.eval(), processor), "curves": curves, "path": out}


__all__ = ["TimeBudget", "run_grpo"]
