"""LLaVA's `group_by_modality_length`: batches of only multimodal or only text samples, of similar lengths.

Each modality is shuffled on its own and cut into megabatches of `batch_size * world_size` indices (one optimizer
step across all ranks); a megabatch is sorted by length so the per-rank batches inside it pad little. Megabatches
of both modalities are then shuffled together; the two incomplete tails are merged into a last megabatch. The
order depends only on `seed` and the epoch, so resuming from a checkpoint replays it exactly.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import Sampler


def _megabatches(indices: list[int], lengths: list[int], size: int, generator: torch.Generator) -> list[list[int]]:
    order = [indices[i] for i in torch.randperm(len(indices), generator=generator).tolist()]
    chunks = [order[start : start + size] for start in range(0, len(order), size)]
    return [sorted(chunk, key=lambda i: abs(lengths[i]), reverse=True) for chunk in chunks]


def modality_grouped_indices(lengths: list[int], size: int, generator: torch.Generator) -> list[int]:
    """Index order; `lengths` are positive for multimodal samples, negative for text-only ones."""
    groups = [[i for i, n in enumerate(lengths) if n >= 0], [i for i, n in enumerate(lengths) if n < 0]]
    full, tails = [], []
    for group in groups:
        if group:
            batches = _megabatches(group, lengths, size, generator)
            if len(batches[-1]) < size:
                tails.extend(batches.pop())
            full.extend(batches)
    full = [full[i] for i in torch.randperm(len(full), generator=generator).tolist()]
    if tails:
        full.append(sorted(tails, key=lambda i: abs(lengths[i]), reverse=True))
    return [index for batch in full for index in batch]


class ModalityLengthGroupedSampler(Sampler[int]):
    """Sampler over `lengths` (signed by modality) with megabatches of `batch_size * world_size`."""

    def __init__(self, lengths: list[int], batch_size: int, world_size: int = 1, seed: int = 0):
        self.lengths, self.size, self.seed, self.epoch = list(lengths), batch_size * world_size, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.lengths)

    def __iter__(self) -> Iterator[int]:
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        return iter(modality_grouped_indices(self.lengths, self.size, generator))


__all__ = ["ModalityLengthGroupedSampler", "modality_grouped_indices"]
