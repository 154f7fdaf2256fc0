"""Training: TRL `SFTTrainer` extension for multimodal rationale SFT (stage presets, packing, per-module LRs)."""

from .collator import MultimodalSFTCollator
from .config import STAGE_PRESETS, RationaleSFTConfig
from .modules import lora_config, set_tunable_parts
from .sft_trainer import RationaleSFTTrainer

__all__ = [
    "STAGE_PRESETS",
    "MultimodalSFTCollator",
    "RationaleSFTConfig",
    "RationaleSFTTrainer",
    "lora_config",
    "set_tunable_parts",
]
