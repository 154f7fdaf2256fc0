"""`mmreason quickstart`: the whole recipe on a laptop CPU, offline, every stage the code users run at scale.

    from mmreason.quickstart import get_preset, run_quickstart
    results = run_quickstart(get_preset("tiny"), "mmreason-quickstart", seed=0)
    print(results["summary"])

Stages (one module each): `model` (a random model of the preset's geometry), `sft` (RationaleSFTTrainer on the
procedural train split, both views), `pairs` (the SFT model samples N answers per hard training question in-process;
the synthesis engine's MMPR correctness pipeline judges them with the strict scorer and pairs them), `mpo`
(MPOTrainer on those pairs), `puma` (PUMATrainer on the text-rich → vision-rich twins), optionally `grpo`
(`--grpo_steps N`: ReasoningGRPOTrainer from the SFT model on the hard training prompts, at SFT -> MPO's wall time),
`evaluate` (the eval runner on held-out easy/hard x text/vision after every training stage, with chance and majority
baselines) and `report` (results.json/.md, accuracy.png, losses.png, the summary).
"""

from .pipeline import run_quickstart
from .presets import PRESETS, Preset, get_preset

__all__ = ["PRESETS", "Preset", "get_preset", "run_quickstart"]
