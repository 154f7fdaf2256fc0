"""`PUMATrainer`: Math-PUMA's Stage-2 KL alignment (text-rich view → vision-rich view) as a `transformers.Trainer`.

    from mmreason.train import PUMAConfig, PUMATrainer
    trainer = PUMATrainer(model="MAmmoTH-VL/MAmmoTH-VL-8B-SI", args=PUMAConfig(output_dir="puma"), train_dataset=pairs)
    trainer.train()

Each step runs the same weights twice: the text-rich side (the teacher) under `torch.no_grad()`, the vision-rich side
(the student) with gradients, and trains on `puma_loss` (`faithful` or `corrected`, see `puma_loss.py`). Only the
logits of the answer span are computed (`logits_to_keep`: from the first answer token's predictor to the last answer
token), so a long image prompt never costs B x T x V logits; the KL runs over the aligned positions in chunks.

**Why `transformers.Trainer`, not TRL's `SFTTrainer`.** The loss is neither TRL's language-modelling loss nor one of
its losses, and pair rows are not a dataset form TRL prepares (its tokenisation and collators would have to be
switched off and its `compute_loss` replaced whole); the released `VTATrainer` subclasses `Trainer` too. What mmreason
adds to every trainer (frozen parts, per-module learning rates, geometry, sample hygiene, the zero-weight vision
forward, `image_newline` under PEFT) comes from [`MultimodalTrainerMixin`], as for SFT and MPO.

**Any VLM.** The model is called through its public forward (`input_ids`, `attention_mask`, the processor's vision
inputs, `logits_to_keep`, `use_cache=False`), so any transformers image-text-to-text model with LLaVA-NeXT's module
names works; tested on mmreason and on a stock `LlavaOnevisionForConditionalGeneration` (with mmreason's processor).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import datasets
import torch
from transformers import Trainer

from ..model import MMReasonForConditionalGeneration, MMReasonProcessor
from .collator import IGNORE_INDEX
from .multimodal_trainer import MultimodalTrainerMixin
from .puma_config import PUMAConfig
from .puma_data import PUMAPairCollator, PUMARowValidator
from .puma_loss import PUMALossOutput, puma_loss


def answer_span(labels: torch.Tensor) -> tuple[int, int]:
    """The columns `[start, stop)` the logits must cover: from the column before the first supervised token (its
    predictor) to the last supervised token, over all rows (`(0, 0)` when nothing is supervised)."""
    columns = (labels != IGNORE_INDEX).any(dim=0).nonzero().flatten()
    if not len(columns):
        return 0, 0
    return max(int(columns[0]) - 1, 0), int(columns[-1]) + 1


def answer_forward(model: torch.nn.Module, inputs: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
    """`(logits, labels)` of one side over its answer span only (`logits_to_keep`), no cache."""
    inputs = dict(inputs)
    labels = inputs.pop("labels")
    start, stop = answer_span(labels)
    keep = torch.arange(start, stop, device=labels.device)
    return model(**inputs, logits_to_keep=keep, use_cache=False).logits, labels[:, start:stop]


class PUMATrainer(MultimodalTrainerMixin, Trainer):
    """[`Trainer`] for PUMA pair rows (`text_rich`, `text_rich_images`, `vision_rich`, `vision_rich_images`).

    Args:
        model: an mmreason (or other LLaVA-OneVision-style) model, or a path/Hub id mmreason loads, with
            `args.model_init_kwargs`.
        args: a [`PUMAConfig`].
        train_dataset / eval_dataset: PUMA pair rows (map-style or iterable).
        processing_class: the processor (default: loaded from the model's folder).
        peft_config: a `peft` config; the model is wrapped with `peft.get_peft_model` (`mm_tunable_parts` ignored).
        **kwargs: passed to `Trainer`.
    """

    card_recipe = "Math-PUMA KL alignment (`PUMATrainer`)"

    row_validator_class = PUMARowValidator

    def __init__(
        self,
        model: MMReasonForConditionalGeneration | str,
        args: PUMAConfig,
        train_dataset: datasets.Dataset | datasets.IterableDataset | None = None,
        eval_dataset: datasets.Dataset | datasets.IterableDataset | None = None,
        processing_class: MMReasonProcessor | None = None,
        peft_config: Any = None,
        **kwargs: Any,
    ):
        model, processor = self.prepare_multimodal(model, args, processing_class, peft_config)
        train_dataset, eval_dataset = self.check_samples(args, processor, train_dataset, eval_dataset)
        if peft_config is not None:
            from peft import get_peft_model

            model = get_peft_model(model, peft_config)
        collator = PUMAPairCollator(
            processor, chat_template=processor.chat_template, max_frames=processor.image_processor.max_frames
        )
        super().__init__(
            model=model,
            args=args,
            data_collator=collator,
            train_dataset=train_dataset,
            eval_dataset=eval_dataset,
            processing_class=processor,
            **kwargs,
        )
        self.loss_is_scaled_for_ga = False  # each micro-batch loss is a mean: the Trainer averages over accumulation
        self._metrics: dict[str, dict[str, list[float]]] = {"train": defaultdict(list), "eval": defaultdict(list)}
        self.finish_setup(peft_config)

    def pair_loss(self, model: torch.nn.Module, inputs: dict[str, dict[str, Any]]) -> PUMALossOutput:
        """The PUMA loss of one collated pair batch: teacher forward under `no_grad`, student forward with grad."""
        with torch.no_grad():
            teacher_logits, teacher_labels = answer_forward(model, inputs["teacher"])
        student_logits, student_labels = answer_forward(model, inputs["student"])
        args = self.args
        return puma_loss(
            student_logits, student_labels, teacher_logits, teacher_labels,
            mode=args.loss_mode, alpha=args.alpha_kl, lam=args.lambda_kl, temperature=args.temperature_kl,
            chunk_size=args.kl_chunk_size or None,
        )  # fmt: skip

    def compute_loss(
        self,
        model: torch.nn.Module,
        inputs: dict[str, dict[str, Any]],
        return_outputs: bool = False,
        num_items_in_batch: Any = None,
    ) -> torch.Tensor | tuple[torch.Tensor, PUMALossOutput]:
        """The PUMA loss; logs `kl`, `kl_student_teacher`, `kl_teacher_student`, `ce` and `kl_positions`."""
        out = self.pair_loss(model, inputs)
        metrics = self._metrics["train" if model.training else "eval"]
        for name in ("kl", "kl_student_teacher", "kl_teacher_student", "ce"):
            value = getattr(out, name).detach()
            metrics[name].append(self.accelerator.gather_for_metrics(value.reshape(1)).float().mean().item())
        metrics["kl_positions"].append(float(out.num_positions))
        return (out.loss, out) if return_outputs else out.loss

    def prediction_step(
        self,
        model: torch.nn.Module,
        inputs: dict[str, Any],
        prediction_loss_only: bool,
        ignore_keys: list[str] | None = None,
    ) -> tuple[torch.Tensor, None, None]:
        """The evaluation loss only (PUMA has no predictions to compare)."""
        inputs = self._prepare_inputs(inputs)
        with torch.no_grad():
            loss = self.compute_loss(model, inputs)
        return loss.detach(), None, None

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        """The Trainer's logs plus the mean of each PUMA metric since the last log (`eval_`-prefixed in evaluation)."""
        mode = "eval" if any(key.startswith("eval_") for key in logs) else "train"
        prefix = "eval_" if mode == "eval" else ""
        for name, values in self._metrics[mode].items():
            if values:
                logs[prefix + name] = sum(values) / len(values)
        self._metrics[mode].clear()
        super().log(logs, start_time)


__all__ = ["PUMATrainer", "answer_forward", "answer_span"]
