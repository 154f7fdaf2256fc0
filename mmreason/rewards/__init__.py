"""Verifiable rewards for RL on reasoning (GRPO): plain TRL reward functions built on mmreason's judge-free scorers.

    from mmreason.rewards import AccuracyReward, FormatReward, weighted
    rewards = [AccuracyReward("mathvista_testmini"), FormatReward()]
    GRPOConfig(reward_weights=[1.0, 0.2]); GRPOTrainer(..., reward_funcs=rewards)
    one = weighted({AccuracyReward("procedural"): 1.0, FormatReward(): 0.2})   # a single function

Each is `f(prompts, completions, **columns) -> list[float]`, the signature TRL's `GRPOTrainer` calls (completions as
strings or as conversational message lists; the dataset's other columns arrive as keyword lists).
"""

from .accuracy import AccuracyReward, completion_text
from .compose import weighted
from .format import FormatReward, has_final_answer

__all__ = ["AccuracyReward", "FormatReward", "completion_text", "has_final_answer", "weighted"]
