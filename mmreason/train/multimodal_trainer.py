"""The multimodal wiring shared by mmreason's TRL trainers ([`RationaleSFTTrainer`], and the preference trainers to
come): model/processor set-up, sample hygiene, the modality-grouped sampler, per-module learning rates and
`image_newline` under PEFT. Mix [`MultimodalTrainerMixin`] in before the TRL trainer class; its arguments are a
[`MultimodalTrainingArguments`] config.
"""

from __future__ import annotations

import copy
import logging
import os
from collections.abc import Mapping
from typing import Any

import datasets
import safetensors.torch
from torch.utils.data import Sampler

from ..data.validate import RowValidator
from ..model import MMReasonForConditionalGeneration, MMReasonModel, MMReasonProcessor
from ..model.chat_templates import CHAT_TEMPLATES
from .hygiene import REPORT_NAME, DropLog, check_drop_fraction, drop_untrainable
from .modules import parameter_groups, set_tunable_parts, train_image_newline
from .multimodal_args import MultimodalTrainingArguments
from .sampler import ModalityLengthGroupedSampler

logger = logging.getLogger(__name__)

ADAPTER_WEIGHTS = "adapter_model.safetensors"


def apply_geometry(model: Any, processor: MMReasonProcessor, args: MultimodalTrainingArguments) -> None:
    """Set the geometry the user asked for (`vision_aspect_ratio`, `frames_upbound`) on the model config and the
    processor; anything not set explicitly stays the checkpoint's. Logs where the checkpoint differs from the
    stage's recipe (`stage_geometry`)."""
    if args.vision_aspect_ratio:
        model.config.vision_aspect_ratio = processor.vision_aspect_ratio = args.vision_aspect_ratio
    if args.frames_upbound:
        processor.image_processor.max_frames = args.frames_upbound
    have = {
        "vision_aspect_ratio": model.config.vision_aspect_ratio,
        "frames_upbound": processor.image_processor.max_frames,
    }
    for key, value in type(args).stage_geometry.get(args.stage, {}).items():
        if have[key] != value:
            logger.info(
                "stage %r was trained with %s=%r; this checkpoint uses %r and keeps it (set %s to change it)",
                args.stage, key, value, have[key], key,
            )  # fmt: skip


def frozen_copy(model: Any) -> Any:
    """A detached, frozen, eval-mode copy of `model` (a reference policy: MPO, GRPO with beta > 0)."""
    reference = copy.deepcopy(model)
    reference.requires_grad_(False)
    return reference.eval()


class MultimodalTrainerMixin:
    """Multimodal set-up for a TRL trainer. A subclass calls, in its `__init__`:

    1. `model, processor = self.prepare_multimodal(model, args, processing_class, peft_config)`;
    2. `train_dataset, eval_dataset = self.check_samples(args, processor, train_dataset, eval_dataset)`;
    3. the TRL trainer's `__init__`;
    4. `self.finish_setup(peft_config)`.
    """

    row_validator_class: type[RowValidator] = RowValidator  # the preference trainers check their rows' form
    #: the recipe as the model card names it (each trainer sets its own)
    card_recipe: str = "mmreason training"
    sample_lengths: list[int] | None = None
    dropped_samples: Mapping[str, int] = {}
    _image_newline: str | None = None

    @staticmethod
    def prepare_multimodal(
        model: MMReasonForConditionalGeneration | str,
        args: MultimodalTrainingArguments,
        processing_class: MMReasonProcessor | None = None,
        peft_config: Any = None,
    ) -> tuple[MMReasonForConditionalGeneration, MMReasonProcessor]:
        """Load the model (a path in any format mmreason reads) and processor, apply the geometry and chat
        template the user asked for, freeze what `mm_tunable_parts` leaves out (without PEFT) and switch on the
        zero-weight vision forward for text-only batches."""
        if isinstance(model, str):
            model = MMReasonForConditionalGeneration.from_pretrained(model, **(args.model_init_kwargs or {}))
        processor = processing_class or MMReasonProcessor.from_pretrained(model.config._name_or_path)
        apply_geometry(model, processor, args)
        if args.chat_template_name:
            processor.chat_template = CHAT_TEMPLATES[args.chat_template_name]
        if peft_config is None:
            counts = set_tunable_parts(model, args.tunable_parts)
            logger.info("trainable parameters per part: %s", counts)
        for module in model.modules():
            if isinstance(module, MMReasonModel):
                module.dummy_vision_forward = True
        return model, processor

    def check_samples(
        self,
        args: MultimodalTrainingArguments,
        processor: MMReasonProcessor,
        train_dataset: datasets.Dataset | datasets.IterableDataset | None,
        eval_dataset: datasets.Dataset | datasets.IterableDataset | None,
    ) -> tuple[Any, Any]:
        """Drop and report over-long and broken rows (see `hygiene.py`): main process first, so the other ranks
        reuse its `datasets` cache; only rank 0 writes `dropped_samples.jsonl`. Every rank then stops with
        `TooManyDropsError` if a map-style training set kept no rows or lost more than `args.max_drop_fraction`."""
        validator = self.row_validator_class(
            processor, args.max_length, image_check="full", max_frames=processor.image_processor.max_frames,
            chat_template=processor.chat_template,
        )  # fmt: skip
        self.sample_lengths, self.dropped_samples = None, {}
        with args.main_process_first(desc="sample hygiene"):
            if train_dataset is not None:
                total = len(train_dataset) if isinstance(train_dataset, datasets.Dataset) else None
                train_dataset, self.sample_lengths, self.dropped_samples = drop_untrainable(
                    train_dataset, validator, args.drop_invalid, args.output_dir, args.dataset_num_proc,
                    write_report=args.process_index == 0,
                )  # fmt: skip
            if eval_dataset is not None:
                eval_dataset, _, _ = drop_untrainable(
                    eval_dataset, validator, args.drop_invalid, None, args.dataset_num_proc
                )
        if self.sample_lengths is not None:  # map-style: every row was checked
            report = os.path.join(args.output_dir, REPORT_NAME) if args.output_dir is not None else None
            kept = len(self.sample_lengths)
            check_drop_fraction(total, kept, self.dropped_samples, args.max_drop_fraction, report)
        return train_dataset, eval_dataset

    def finish_setup(self, peft_config: Any) -> None:
        """After the TRL trainer's `__init__`: under PEFT, train `image_newline` with the projector
        (`modules.train_image_newline`); empty a streaming drop report of the rows TRL's set-up peeked at."""
        self._image_newline = train_image_newline(self.model, peft_config) if peft_config is not None else None
        if isinstance(self.dropped_samples, DropLog) and self.args.process_index == 0:
            self.dropped_samples.reset()

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

    def create_model_card(
        self, model_name: str | None = None, dataset_name: str | None = None, tags: str | list[str] | None = None
    ) -> None:
        """mmreason's model card (`mmreason.hub.model_card`: recipe, hyperparameters, image-text-to-text usage)
        in `output_dir/README.md`, in place of TRL's generic text-generation card."""
        if self.is_world_process_zero():
            self._write_card(self.args.output_dir, model_name, dataset_name, tags)

    def _write_card(
        self, folder: str, model_name: str | None = None, dataset_name: str | None = None,
        tags: str | list[str] | None = None,
    ) -> None:  # fmt: skip
        from ..hub.model_card import model_card, training_hyperparameters

        config = self.accelerator.unwrap_model(self.model).config
        card = model_card(
            model_name or os.path.basename(os.path.normpath(folder)), recipe=self.card_recipe,
            base_model=getattr(config, "_name_or_path", None), datasets=[dataset_name] if dataset_name else None,
            hyperparameters=training_hyperparameters(self.args), tags=[tags] if isinstance(tags, str) else tags,
        )  # fmt: skip
        os.makedirs(folder, exist_ok=True)
        card.save(os.path.join(folder, "README.md"))

    def _save(self, output_dir: str | None = None, state_dict: dict | None = None) -> None:
        """The model as usual, with mmreason's model card; under PEFT, `image_newline` joins the adapter weights
        under its PEFT name, which `PeftModel.from_pretrained` / `load_adapter` load back (PEFT passes unknown
        adapter keys through)."""
        super()._save(output_dir, state_dict=state_dict)
        output_dir = output_dir if output_dir is not None else self.args.output_dir
        if self.args.should_save:
            self._write_card(output_dir)
        path = os.path.join(output_dir, ADAPTER_WEIGHTS)
        if self._image_newline is None or not self.args.should_save or not os.path.exists(path):
            return
        if state_dict is not None and self._image_newline in state_dict:
            value = state_dict[self._image_newline]
        else:
            value = self.accelerator.unwrap_model(self.model).get_parameter(self._image_newline)
        tensors = safetensors.torch.load_file(path)
        tensors[self._image_newline] = value.detach().cpu().contiguous()
        safetensors.torch.save_file(tensors, path, metadata={"format": "pt"})


__all__ = ["ADAPTER_WEIGHTS", "MultimodalTrainerMixin", "apply_geometry", "frozen_copy"]
