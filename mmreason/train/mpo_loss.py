"""MPO's loss from pair log-probs, and InternVL's running reward shift δ for `bco_pair`.

With r_c = β·(log π_θ(y_c|x) - log π_ref(y_c|x)) and r_r likewise (log π = sum of completion-token log-probs):

* `sigmoid` (DPO): -log sigmoid(r_c - r_r)
* `bco_pair` (InternVL / TRL ≤ 0.28): -log sigmoid(r_c - δ) - log sigmoid(-(r_r - δ)); δ = 0 is TRL 1.16's `bco_pair`
* `sft`: the mean NLL over all chosen completion tokens of the batch (one number, as TRL and InternVL's
  `nn.CrossEntropyLoss()` on the chosen rows)
* `hinge`: relu(1 - (r_c - r_r)); `ipo`: ((log-ratio margin per completion token) - 1/(2β))², as TRL 1.16

and the loss is `Σ_i w_i · mean_pairs(loss_i)`, TRL's combination (InternVL's: `Σ w · loss_per_pair + alpha·nll`, then
the mean: the same number).

δ ([`RewardShift`]) is TRL 0.9.6's `RunningMoments` as InternVL's `trainer_dpo.py` uses it: on every micro-batch,
*before* the loss reads it, the detached batch mean of `cat(r_c, r_r)` is averaged across ranks (one number per
rank, equal weight) and folded into a cumulative equal-weight mean over all updates so far; it starts at 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass
class RewardShift:
    """The running mean δ of the batch reward means (`mean`) over `count` rank-averaged updates."""

    mean: float = 0.0
    count: int = 0

    def update(self, batch_mean: float) -> float:
        """Fold one (rank-averaged) batch mean into δ and return the new δ."""
        self.count += 1
        self.mean += (batch_mean - self.mean) / self.count
        return self.mean

    def state_dict(self) -> dict[str, float | int]:
        return {"mean": self.mean, "count": self.count}

    def load_state_dict(self, state: dict[str, float | int]) -> None:
        self.mean, self.count = float(state["mean"]), int(state["count"])


def update_shift(
    shift: RewardShift,
    chosen_rewards: torch.Tensor,
    rejected_rewards: torch.Tensor,
    gather: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> float:
    """Update `shift` with this micro-batch's rewards (detached): `gather` (e.g. `Accelerator.gather`) collects each
    rank's batch mean so every rank folds in the same cross-rank average."""
    rewards = torch.cat((chosen_rewards, rejected_rewards)).detach()
    batch_mean = rewards.to(torch.promote_types(rewards.dtype, torch.float32)).mean().reshape(1)
    if gather is not None:
        batch_mean = gather(batch_mean)
    return shift.update(batch_mean.double().mean().item())


def preference_losses(
    chosen_logratios: torch.Tensor,
    rejected_logratios: torch.Tensor,
    chosen_nll: torch.Tensor,
    loss_types: list[str],
    loss_weights: list[float],
    beta: float,
    shift: float = 0.0,
    chosen_tokens: torch.Tensor | None = None,
    rejected_tokens: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The weighted loss and each term's pair mean (unweighted), from the policy-reference log-ratios `(B,)`."""
    chosen_rewards, rejected_rewards = beta * chosen_logratios, beta * rejected_logratios
    terms: dict[str, torch.Tensor] = {}
    for loss_type in loss_types:
        if loss_type == "sigmoid":
            per_pair = -F.logsigmoid(chosen_rewards - rejected_rewards)
        elif loss_type == "bco_pair":
            per_pair = -F.logsigmoid(chosen_rewards - shift) - F.logsigmoid(-(rejected_rewards - shift))
        elif loss_type == "sft":
            per_pair = chosen_nll.reshape(1)
        elif loss_type == "hinge":
            per_pair = torch.relu(1 - (chosen_rewards - rejected_rewards))
        elif loss_type == "ipo":
            if chosen_tokens is None or rejected_tokens is None:
                raise ValueError("the ipo loss needs the completion token counts")
            margin = chosen_logratios / chosen_tokens.clamp(min=1) - rejected_logratios / rejected_tokens.clamp(min=1)
            per_pair = (margin - 1 / (2 * beta)) ** 2
        else:
            raise ValueError(f"unsupported loss type {loss_type!r}")
        terms[loss_type] = per_pair.mean()
    loss = sum(weight * terms[name] for name, weight in zip(loss_types, loss_weights, strict=True))
    return loss, terms


__all__ = ["RewardShift", "preference_losses", "update_shift"]
