"""[`ReasoningGRPOConfig`]: TRL's `GRPOConfig` for multimodal reasoning with verifiable rewards (`mmreason.rewards`)
on prompt rows (`prompt`: the user turn(s), `images`, plus the columns the rewards read, e.g. `answer`).

No stage preset: GRPO is not in the seeds. Everything of [`MultimodalTrainingArguments`] (tunable parts, per-part
learning rates, geometry, hygiene) applies; TRL's defaults otherwise (beta 0, 8 generations, DAPO loss).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from trl import GRPOConfig

from .multimodal_args import MultimodalTrainingArguments


@dataclass
class ReasoningGRPOConfig(MultimodalTrainingArguments, GRPOConfig):
    """[`GRPOConfig`] plus the fields of [`MultimodalTrainingArguments`], and:

    Args:
        max_length: prompt rows longer than this (image tokens counted exactly) are dropped and reported before
            training, never truncated; `None` keeps all. (Completions are bounded by `max_completion_length`.)
        accuracy_reward: the benchmark whose strict scorer is the accuracy reward when the trainer is given no
            `reward_funcs` (`mmreason.rewards.AccuracyReward`; the rows carry its columns, e.g. `answer`).
        format_reward_weight: weight of `mmreason.rewards.FormatReward` beside it (0: not used); the accuracy
            reward weighs 1. Ignored when `reward_funcs` are given (use TRL's `reward_weights` then).
    """

    stage_presets: ClassVar[dict[str, dict[str, Any]]] = {}

    stage: str | None = field(default=None, metadata={"help": "No GRPO stage presets (None)."})
    max_length: int | None = field(default=None, metadata={"help": "Drop (never truncate) longer prompt rows."})
    accuracy_reward: str = field(default="procedural", metadata={"help": "Benchmark scorer used as the reward."})
    format_reward_weight: float = field(default=0.0, metadata={"help": "Weight of the format reward (0: none)."})
    dataset_num_proc: int | None = field(default=None, metadata={"help": "Processes for the prompt hygiene check."})


__all__ = ["ReasoningGRPOConfig"]
