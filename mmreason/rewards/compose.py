"""Weighted sums of reward functions, for code that wants one function (TRL itself takes a list plus
`GRPOConfig.reward_weights`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

RewardFunction = Callable[..., list[float | None]]


def weighted(rewards: Mapping[RewardFunction, float]) -> RewardFunction:
    """One reward function returning `sum(weight * reward)` per completion; a `None` reward counts as 0 (TRL's
    own treatment of `None` in a weighted sum: `nansum`)."""
    items = list(rewards.items())
    if not items:
        raise ValueError("weighted() needs at least one reward function")

    def combined(
        prompts: list[Any] | None = None, completions: list[Any] | None = None, **columns: Any
    ) -> list[float]:
        total = [0.0] * len(completions or [])
        for function, weight in items:
            for index, value in enumerate(function(prompts=prompts, completions=completions, **columns)):
                total[index] += 0.0 if value is None else weight * value
        return total

    combined.__name__ = "+".join(f"{w:g}*{getattr(f, '__name__', 'reward')}" for f, w in items)
    return combined


__all__ = ["RewardFunction", "weighted"]
