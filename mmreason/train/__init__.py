"""Training: TRL `SFTTrainer` extension for multimodal rationale SFT (stage presets, packing, per-module LRs).

`MultimodalTrainingArguments` / `MultimodalTrainerMixin` hold the multimodal wiring every mmreason trainer shares.
"""

from .collator import MultimodalSFTCollator
from .config import STAGE_PRESETS, RationaleSFTConfig
from .grpo_config import ReasoningGRPOConfig
from .grpo_trainer import ReasoningGRPOTrainer
from .modules import lora_config, set_tunable_parts
from .mpo_config import MPOConfig
from .mpo_trainer import MPOTrainer
from .multimodal_args import MultimodalTrainingArguments
from .multimodal_trainer import MultimodalTrainerMixin
from .puma_config import PUMAConfig
from .puma_trainer import PUMATrainer
from .sft_trainer import RationaleSFTTrainer

__all__ = [
    "STAGE_PRESETS",
    "MPOConfig",
    "MPOTrainer",
    "MultimodalSFTCollator",
    "MultimodalTrainerMixin",
    "MultimodalTrainingArguments",
    "PUMAConfig",
    "PUMATrainer",
    "RationaleSFTConfig",
    "RationaleSFTTrainer",
    "ReasoningGRPOConfig",
    "ReasoningGRPOTrainer",
    "lora_config",
    "set_tunable_parts",
]
