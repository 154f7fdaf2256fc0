"""Per-request seeded sampling for in-process `generate`: every row draws from its own `torch.Generator`.

`model.generate(do_sample=True)` draws all rows of a batch from one random state, so a row's sample depends on
which rows share its batch. Here the batch is decoded greedily with [`PerRowSampler`] as the last logits
processor: it applies the sampling warpers (temperature, top-k, top-p: transformers' public `LogitsWarper`s, in
the order `generate` applies them) and adds Gumbel noise drawn from the row's own generator. The argmax of
`logits + Gumbel` is an exact draw from `softmax(logits)` (the Gumbel-max trick), and each row consumes exactly
one vocabulary-sized draw per step, so a row's answer depends only on its seed and its own logits.
"""

from __future__ import annotations

from typing import Any

import torch
from transformers import (
    LogitsProcessor,
    LogitsProcessorList,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

from .sampling import Sampling

#: transformers' global sampling defaults (`GenerationConfig`), used where neither the request nor the model sets one
DEFAULT_TOP_K = 50


def sampling_warpers(sampling: Sampling, generation_config: Any = None) -> list[LogitsProcessor]:
    """The warpers `generate(do_sample=True)` would apply for `sampling` (request values first, then the model's
    `generation_config`, then transformers' defaults: top-k 50, top-p 1)."""
    top_k = sampling.top_k or getattr(generation_config, "top_k", None) or DEFAULT_TOP_K
    top_p = sampling.top_p if sampling.top_p is not None else getattr(generation_config, "top_p", None)
    warpers: list[LogitsProcessor] = []
    if sampling.effective_temperature != 1.0:
        warpers.append(TemperatureLogitsWarper(sampling.effective_temperature))
    warpers.append(TopKLogitsWarper(top_k=top_k))
    if top_p is not None and top_p < 1.0:
        warpers.append(TopPLogitsWarper(top_p=top_p))
    return warpers


class PerRowSampler(LogitsProcessor):
    """Turns greedy decoding into sampling with one seed per row (see the module docstring).

    Args:
        seeds: one seed per batch row.
        warpers: applied to the scores before the noise ([`sampling_warpers`]).
    """

    def __init__(self, seeds: list[int], warpers: list[LogitsProcessor]):
        self.seeds, self.warpers = list(seeds), list(warpers)
        self.generators: list[torch.Generator] | None = None

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        if scores.shape[0] != len(self.seeds):
            raise ValueError(f"{scores.shape[0]} rows for {len(self.seeds)} seeds")
        if self.generators is None:
            self.generators = [torch.Generator(device=scores.device).manual_seed(s) for s in self.seeds]
        scores = scores.float()
        for warper in self.warpers:
            scores = warper(input_ids, scores)
        uniform = torch.stack([
            torch.rand(scores.shape[-1], generator=g, device=scores.device) for g in self.generators
        ]).clamp_min(torch.finfo(torch.float32).tiny)  # fmt: skip
        return scores - torch.log(-torch.log(uniform))


def seeded_generate_kwargs(sampling: Sampling, seeds: list[int], generation_config: Any = None) -> dict[str, Any]:
    """`generate` keyword arguments that sample each row from its own seed (greedy search + [`PerRowSampler`])."""
    sampler = PerRowSampler(seeds, sampling_warpers(sampling, generation_config))
    return {"do_sample": False, "logits_processor": LogitsProcessorList([sampler])}


__all__ = ["DEFAULT_TOP_K", "PerRowSampler", "sampling_warpers", "seeded_generate_kwargs"]
