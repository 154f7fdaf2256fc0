"""`RationaleSFTTrainer`: TRL's `SFTTrainer` for multimodal rationale SFT on canonical rows.

    from mmreason.train import RationaleSFTConfig, RationaleSFTTrainer
    args = RationaleSFTConfig(output_dir="mammoth-vl-si", stage="si", multimodal_packing=True)
    trainer = RationaleSFTTrainer(model="MAmmoTH-VL/MAmmoTH-VL-8B-SI", args=args, train_dataset=dataset)
    trainer.train()

What it adds to `SFTTrainer` (everything else, from logging to checkpoints, DeepSpeed/FSDP and PEFT, is TRL's):
* the stage preset's frozen parts (`mm_tunable_parts`) and per-module learning rates;
* sample hygiene: over-long or broken rows are dropped and reported before training, never truncated;
* the chat template's generation markers as the only source of labels (see `collator.py`), and multimodal
  padding-free packing, which TRL refuses for vision data;
* text-only batches push a blank tile through the vision tower with zero weight (DeepSpeed ZeRO-3 hang);
* LLaVA's `group_by_modality_length` sampler.
"""

from __future__ import annotations

import logging
from typing import Any

import datasets
from torch.utils.data import Sampler
from trl import SFTTrainer

from ..data.validate import RowValidator
from ..model import MMReasonForConditionalGeneration, MMReasonModel, MMReasonProcessor
from ..model.chat_templates import CHAT_TEMPLATES
from .collator import MultimodalSFTCollator
from .config import RationaleSFTConfig
from .hygiene import drop_untrainable
from .modules import parameter_groups, set_tunable_parts
from .sampler import ModalityLengthGroupedSampler

logger = logging.getLogger(__name__)


class RationaleSFTTrainer(SFTTrainer):
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
        if isinstance(model, str):
            model = MMReasonForConditionalGeneration.from_pretrained(model, **(args.model_init_kwargs or {}))
        processor = processing_class or MMReasonProcessor.from_pretrained(model.config._name_or_path)
        if args.vision_aspect_ratio:
            model.config.vision_aspect_ratio = processor.vision_aspect_ratio = args.vision_aspect_ratio
        if args.chat_template_name:
            processor.chat_template = CHAT_TEMPLATES[args.chat_template_name]
        if peft_config is None:
            counts = set_tunable_parts(model, args.tunable_parts)
            logger.info("trainable parameters per part: %s", counts)
        for module in model.modules():
            if isinstance(module, MMReasonModel):
                module.dummy_vision_forward = True
        validator = RowValidator(
            processor, args.max_length, image_check="full", max_frames=args.frames_upbound,
            chat_template=processor.chat_template,
        )  # fmt: skip
        self.sample_lengths = None
        self.dropped_samples = {}
        if train_dataset is not None:
            train_dataset, self.sample_lengths, self.dropped_samples = drop_untrainable(
                train_dataset, validator, args.drop_invalid, args.output_dir, args.dataset_num_proc
            )
        if eval_dataset is not None:
            eval_dataset, _, _ = drop_untrainable(
                eval_dataset, validator, args.drop_invalid, None, args.dataset_num_proc
            )
        collator = MultimodalSFTCollator(
            processor,
            chat_template=processor.chat_template,
            assistant_only_loss=args.assistant_only_loss,
            packing=args.multimodal_packing,
            # flash-attention's varlen kernels take the whole batch as one row; SDPA/eager get rows of the longest
            # sample, so the block-diagonal mask never costs more than padding would
            packed_length=0 if "flash" in str(model.config._attn_implementation) else None,
            max_frames=args.frames_upbound,
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

    def _get_train_sampler(self, train_dataset: datasets.Dataset | None = None) -> Sampler | None:
        if self.args.group_by_modality_length and self.sample_lengths is not None:
            batch = self.args.per_device_train_batch_size * self.args.gradient_accumulation_steps
            return ModalityLengthGroupedSampler(self.sample_lengths, batch, self.args.world_size, self.args.seed)
        return super()._get_train_sampler(train_dataset)

    def create_optimizer(self, model: Any = None) -> Any:
        """Per-module learning rates (`mm_vision_tower_lr`, `mm_projector_lr`) as optimizer groups."""
        args = self.args
        if self.optimizer is None and (args.mm_vision_tower_lr is not None or args.mm_projector_lr is not None):
            opt_model = self.model if model is None else model
            groups = parameter_groups(
                opt_model,
                args.learning_rate,
                args.weight_decay,
                set(self.get_decay_parameter_names(opt_model)),
                {"mm_vision_tower": args.mm_vision_tower_lr, "mm_mlp_adapter": args.mm_projector_lr},
            )
            optimizer_cls, optimizer_kwargs = self.optimizer_cls_and_kwargs or self.get_optimizer_cls_and_kwargs(
                args, opt_model
            )
            self.optimizer = optimizer_cls(groups, **optimizer_kwargs)
        return super().create_optimizer(model)


__all__ = ["RationaleSFTTrainer"]
