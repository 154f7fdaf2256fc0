"""Quickstart presets: model geometry, data sizes and the steps of each stage.

`tiny` (the default) fits the 10-minute goal on 2 CPU cores; `small` is a wider model trained longer, for a user
with more time or a GPU. Every field can be overridden from the command line (`mmreason quickstart --sft_steps 50`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class Preset:
    """What one quickstart run builds and how long each stage trains.

    Args:
        name: the preset's name.
        tile: vision tile size in pixels (each image becomes one 1x1 anyres grid tile plus the base tile).
        patch: vision patch size (tokens per tile: `(tile // patch) ** 2`).
        vision_width / vision_layers: SigLIP width and depth.
        text_width / text_layers / text_heads: Qwen2 width, depth and attention heads (key-value heads: half).
        n_train: training problems per level (easy and hard), each in both views for SFT.
        n_test: held-out problems per level and view.
        n_pair_questions: training questions sampled for MMPR pairs.
        num_samples: answers sampled per question (MMPR's N).
        sft_steps / mpo_steps / puma_steps: optimizer steps of each stage.
        batch_size: rows per optimizer step (all stages).
        sft_lr / mpo_lr / puma_lr: peak learning rates.
        max_new_tokens: generation budget for sampling and evaluation.
        families: the procedural families to use (`None`: all of them).
        grpo_steps: steps of the optional GRPO stage (0: none): `ReasoningGRPOTrainer` from the SFT model on the
            hard training prompts, stopped early at the wall time SFT -> MPO took (MMPR pairs + MPO), so the report
            compares SFT -> GRPO with SFT -> MPO on `hard` at equal wall time.
        grpo_generations / grpo_lr: completions per prompt and learning rate of that stage.
        vocab_size: size of the BPE tokenizer trained on the set's texts (`mmreason.quickstart.tokenizer`);
            0 keeps `mmreason.testing`'s byte-level tokenizer (one token per byte: 3-4x longer sequences).
        threads: torch intra-op threads (`torch.set_num_threads`); the tiny model's matrices are too small for
            several threads to pay, and on a shared CPU one thread is several times faster (measured).
    """

    name: str = "tiny"
    tile: int = 32
    patch: int = 8
    vision_width: int = 32
    vision_layers: int = 2
    text_width: int = 64
    text_layers: int = 2
    text_heads: int = 4
    n_train: int = 2000
    n_test: int = 100
    n_pair_questions: int = 128
    num_samples: int = 8
    sft_steps: int = 1800
    mpo_steps: int = 60
    puma_steps: int = 60
    batch_size: int = 16
    sft_lr: float = 3e-3
    mpo_lr: float = 2e-4
    puma_lr: float = 3e-4
    max_new_tokens: int = 160
    families: tuple[str, ...] | None = None
    vocab_size: int = 512
    grpo_steps: int = 0
    grpo_generations: int = 8
    grpo_lr: float = 2e-5
    threads: int | None = 1

    def with_overrides(self, **overrides: Any) -> Preset:
        """This preset with the given fields replaced (`None` values are ignored)."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(f"unknown preset fields {unknown}; known: {sorted(known)}")
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


PRESETS: dict[str, Preset] = {
    "tiny": Preset(),
    "small": Preset(
        name="small",
        tile=64,
        vision_width=96,
        vision_layers=3,
        text_width=256,
        text_layers=4,
        text_heads=8,
        n_train=2000,
        n_test=200,
        n_pair_questions=512,
        num_samples=8,
        sft_steps=3000,
        mpo_steps=300,
        puma_steps=300,
        batch_size=32,
        sft_lr=1e-3,
        mpo_lr=5e-5,
        puma_lr=1e-4,
    ),
}


def get_preset(name: str) -> Preset:
    """The preset `name` (`tiny` or `small`); raises with the known names otherwise."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose from {', '.join(PRESETS)}")
    return PRESETS[name]


__all__ = ["PRESETS", "Preset", "get_preset"]
