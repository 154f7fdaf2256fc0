"""`RationaleSFTTrainer`: TRL's `SFTTrainer` for multimodal rationale SFT on canonical rows.

    from mmreason.train import RationaleSFTConfig, RationaleSFTTrainer
    args = RationaleSFTConfig(output_dir="mammoth-vl-si", stage="si", multimodal_packing=True)
    trainer = RationaleSFTTrainer(model="MAmmoTH-VL/MAmmoTH-VL-8B-SI", args=args, train_dataset=dataset)
    trainer.train()

What it adds to `SFTTrainer` (everything else, from logging to checkpoints, DeepSpeed/FSDP and PEFT, is TRL's):
* the multimodal set-up shared with mmreason's other trainers ([`MultimodalTrainerMixin`]): frozen parts
  (`mm_tunable_parts`) and per-module learning rates, explicit-only geometry, sample hygiene (over-long or broken
  rows dropped and reported before training, never truncated), text-only batches pushing a blank tile through the
  vision tower with zero weight (DeepSpeed ZeRO-3 hang, DDP without `find_unused_parameters`), LLaVA's
  `group_by_modality_length` sampler, `image_newline` trained and saved under LoRA;
* the chat template's generation markers as the only source of labels (see `collator.py`), and multimodal
  padding-free packing, which TRL refuses for vision data; TRL's `num_tokens` metric counts the packed batch's
  real tokens.
"""

from __future__ import annotations

from typing import Any

import datasets
import torch
from trl import SFTTrainer

from ..model import MMReasonForConditionalGeneration, MMReasonProcessor
from .collator import MultimodalSFTCollator
from .config import RationaleSFTConfig
from .multimodal_trainer import MultimodalTrainerMixin


def packed_token_count(inputs: dict[str, Any], pad_token_id: int | None) -> int:
    """Real tokens of a packed batch (`position_ids`, no `attention_mask`): every position except the padding that
    fills row tails, a trailing segment (positions restarting at 0) made only of `pad_token_id`."""
    positions, ids = inputs["position_ids"], inputs["input_ids"]
    total = positions.numel()
    for row in range(positions.shape[0]):
        starts = torch.nonzero(positions[row] == 0).flatten()
        tail = int(starts[-1]) if len(starts) else 0
        if tail > 0 and pad_token_id is not None and bool((ids[row, tail:] == pad_token_id).all()):
            total -= positions.shape[1] - tail
    return total


class RationaleSFTTrainer(MultimodalTrainerMixin, SFTTrainer):
    """[`SFTTrainer`] for canonical multimodal rows (`messages`, `images`, `videos`).

    Args:
        model: an [`MMReasonForConditionalGeneration`] or a path/Hub id in any format it loads (mmreason,
            llava_onevision, LLaVA-NeXT releases); loaded with `args.model_init_kwargs`.
        args: a [`RationaleSFTConfig`].
        train_dataset / eval_dataset: canonical rows (map-style or iterable).
        processing_class: an [`MMReasonProcessor`] (default: loaded from the model's folder).
        peft_config: a `peft` config (see `mmreason.train.lora_config`); `mm_tunable_parts` is then ignored.
        **kwargs: passed to `SFTTrainer`.
    """

    card_recipe = "rationale SFT (MAmmoTH-VL's recipe, `RationaleSFTTrainer`)"

    def __init__(
        self,
        model: MMReasonForConditionalGeneration | str,
        args: RationaleSFTConfig,
        train_dataset: datasets.Dataset | datasets.IterableDataset | None = None,
        eval_dataset: datasets.Dataset | datasets.IterableDataset | None = None,
        processing_class: MMReasonProcessor | None = None,
        peft_config: Any = None,
        **kwargs: Any,
    ):
        model, processor = self.prepare_multimodal(model, args, processing_class, peft_config)
        train_dataset, eval_dataset = self.check_samples(args, processor, train_dataset, eval_dataset)
        collator = MultimodalSFTCollator(
            processor,
            chat_template=processor.chat_template,
            assistant_only_loss=args.assistant_only_loss,
            label_mode=args.label_mode,
            packing=args.multimodal_packing,
            # flash-attention's varlen kernels take the whole batch as one row; SDPA/eager get rows of the longest
            # sample, so the block-diagonal mask never costs more than padding would
            packed_length=0 if "flash" in str(model.config._attn_implementation) else None,
            max_frames=processor.image_processor.max_frames,
        )
        super().__init__(
            model=model,
            args=args,
            data_collator=collator,
            train_dataset=train_dataset,
            eval_dataset=eval_dataset,
            processing_class=processor,
            peft_config=peft_config,
            **kwargs,
        )
        self.finish_setup(peft_config)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        """TRL's loss; for packed batches, TRL's `num_tokens` metric (there: one row's width per rank) is replaced by
        the real token count."""
        packed = self.model.training and "attention_mask" not in inputs and "position_ids" in inputs
        if not packed:
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        before = self._total_train_tokens
        real = packed_token_count(inputs, self.processing_class.tokenizer.pad_token_id)
        result = super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        device = inputs["position_ids"].device
        real = self.accelerator.gather_for_metrics(torch.tensor(real, device=device)).sum().item()
        self._total_train_tokens = before + real // self._tp_size
        self._metrics["train"]["num_tokens"] = [self._total_train_tokens]
        return result


__all__ = ["RationaleSFTTrainer", "packed_token_count"]
