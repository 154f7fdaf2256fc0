"""`MPOTrainer`: TRL's `DPOTrainer` for InternVL's Mixed Preference Optimization on multimodal preference rows.

    from mmreason.train import MPOConfig, MPOTrainer
    trainer = MPOTrainer(model="OpenGVLab-style/checkpoint", args=MPOConfig(output_dir="mpo"), train_dataset=pairs)
    trainer.train()

What it adds to `DPOTrainer` (logging, checkpoints, DeepSpeed/FSDP, PEFT and the fused LM head stay TRL's):
* the multimodal set-up shared with mmreason's other trainers ([`MultimodalTrainerMixin`]): model loading in any
  format mmreason reads, tunable parts, per-module learning rates, explicit-only geometry, and sample hygiene of
  preference rows ([`PreferenceRowValidator`]: either side over `max_length` is dropped, never truncated);
* the loss from [`pair_logps`] (`mmreason.train.preference_forward`, mode `args.forward_mode`): every term of
  [`preference_losses`], with `bco_pair` shifted by InternVL's running reward mean δ ([`RewardShift`]), updated on
  every training micro-batch before the loss reads it, averaged across ranks, and **saved in each checkpoint**
  (`mpo_reward_shift.json`) so a resumed run continues exactly; InternVL restarts it at 0;
* the reference model: a frozen copy of the policy as prepared (geometry included; made here, so release
  checkpoints TRL's `create_model_from_path` cannot resolve work), or, under PEFT, the policy with its adapters
  disabled (no second copy), where the `image_newline` the trainer also trains is swapped back to its initial value.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from typing import Any

import datasets
import torch
from accelerate.utils import is_peft_model
from transformers import PreTrainedModel, TrainerCallback
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR, get_last_checkpoint
from trl import DPOTrainer
from trl.models.utils import disable_gradient_checkpointing
from trl.trainer.utils import use_adapter

from ..model import MMReasonForConditionalGeneration, MMReasonProcessor
from .mpo_config import MPOConfig
from .mpo_loss import RewardShift, preference_losses, update_shift
from .multimodal_trainer import MultimodalTrainerMixin, apply_geometry, frozen_copy
from .preference_collators import REFERENCE_COLUMNS, collator_for
from .preference_forward import PairLogps, pair_logps
from .preference_hygiene import PreferenceRowValidator

SHIFT_FILE = "mpo_reward_shift.json"


class RewardShiftCheckpoint(TrainerCallback):
    """Writes the running reward shift δ into every checkpoint folder (rank 0), next to `trainer_state.json`."""

    def __init__(self, shift: RewardShift):
        self.shift = shift

    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if state.is_world_process_zero:
            folder = os.path.join(args.output_dir, f"{PREFIX_CHECKPOINT_DIR}-{state.global_step}")
            if os.path.isdir(folder):
                with open(os.path.join(folder, SHIFT_FILE), "w") as handle:
                    json.dump(self.shift.state_dict(), handle)


class MPOTrainer(MultimodalTrainerMixin, DPOTrainer):
    """[`DPOTrainer`] for preference rows (`prompt`, `chosen`, `rejected`, `images`) with MPO's loss.

    Args:
        model: an image-text-to-text model (mmreason's, or a stock transformers LLaVA-OneVision) or a path/Hub id
            in any format mmreason loads (loaded with `args.model_init_kwargs`).
        ref_model: the reference model, a model or a path (loaded like `model`, with the same geometry). Default:
            a frozen copy of `model`, or, with `peft_config` (or a `PeftModel`), the adapter-disabled policy.
        args: an [`MPOConfig`].
        train_dataset / eval_dataset: preference rows (map-style or iterable).
        processing_class: an [`MMReasonProcessor`] (default: loaded from the model's folder).
        peft_config: a `peft` config (see `mmreason.train.lora_config`); `mm_tunable_parts` is then ignored.
        data_collator: default: the collator of `args.forward_mode` (`plain`: TRL's
            `DataCollatorForVisionPreference`), never truncating: hygiene dropped what is too long.
        **kwargs: passed to `DPOTrainer` (`callbacks`, `optimizers`, ...).
    """

    card_recipe = "mixed preference optimization (InternVL's MPO, `MPOTrainer`)"

    row_validator_class = PreferenceRowValidator

    def __init__(
        self,
        model: PreTrainedModel | str,
        ref_model: PreTrainedModel | str | None = None,
        args: MPOConfig | None = None,
        train_dataset: datasets.Dataset | datasets.IterableDataset | None = None,
        eval_dataset: datasets.Dataset | datasets.IterableDataset | None = None,
        processing_class: MMReasonProcessor | None = None,
        peft_config: Any = None,
        data_collator: Any = None,
        callbacks: list[TrainerCallback] | None = None,
        **kwargs: Any,
    ):
        if args is None:
            raise ValueError("MPOTrainer needs an MPOConfig (`args`)")
        model, processor = self.prepare_multimodal(model, args, processing_class, peft_config)
        train_dataset, eval_dataset = self.check_samples(args, processor, train_dataset, eval_dataset)
        if isinstance(ref_model, str):
            ref_model = MMReasonForConditionalGeneration.from_pretrained(ref_model, **(args.model_init_kwargs or {}))
            apply_geometry(ref_model, processor, args)
            ref_model = frozen_copy(ref_model)
        elif ref_model is None and peft_config is None and not is_peft_model(model):
            ref_model = frozen_copy(model)
        self.reward_shift = RewardShift()
        super().__init__(
            model=model,
            ref_model=ref_model,
            args=args,
            data_collator=data_collator or self.default_collator(args, processor),
            train_dataset=train_dataset,
            eval_dataset=eval_dataset,
            processing_class=processor,
            peft_config=peft_config,
            callbacks=[*(callbacks or []), RewardShiftCheckpoint(self.reward_shift)],
            **kwargs,
        )
        self.finish_setup(peft_config)
        self._initial_image_newline = None
        if self._image_newline is not None:  # trained outside the adapter: the reference must use its first value
            self._initial_image_newline = self.model.get_parameter(self._image_newline).detach().clone()

    @staticmethod
    def default_collator(args: MPOConfig, processor: MMReasonProcessor) -> Any:
        """The collator of `args.forward_mode` (`plain`: TRL's), never truncating, carrying precomputed reference
        log-prob columns (`preference_forward.precompute_ref_logps`) into the batch when the rows have them."""
        return collator_for(args.forward_mode, processor, max_length=None)

    def _set_signature_columns_if_needed(self) -> None:
        """TRL's columns for vision rows, plus the precomputed reference log-probs (TRL drops them for vision)."""
        super()._set_signature_columns_if_needed()
        self._signature_columns = [*self._signature_columns, *REFERENCE_COLUMNS]

    # --- training state: δ ---------------------------------------------------------------------------------------

    def train(self, resume_from_checkpoint: str | bool | None = None, **kwargs: Any) -> Any:
        """`Trainer.train`; resuming from a checkpoint also restores the reward shift δ saved in it."""
        if resume_from_checkpoint is True:
            resume_from_checkpoint = get_last_checkpoint(self.args.output_dir)
        if isinstance(resume_from_checkpoint, str):
            path = os.path.join(resume_from_checkpoint, SHIFT_FILE)
            if os.path.isfile(path):
                with open(path) as handle:
                    self.reward_shift.load_state_dict(json.load(handle))
        return super().train(resume_from_checkpoint=resume_from_checkpoint, **kwargs)

    # --- loss ---------------------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _initial_image_newline_in_place(self) -> Iterator[None]:
        if self._initial_image_newline is None:
            yield
            return
        parameter = self.accelerator.unwrap_model(self.model).get_parameter(self._image_newline)
        current = parameter.data
        parameter.data = self._initial_image_newline.to(current.device, current.dtype)
        try:
            yield
        finally:
            parameter.data = current

    def reference_logps(self, inputs: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        """Reference log-probs of the batch's pairs: precomputed columns if the batch has them, else a no-grad
        forward of the reference model (or of the adapter-disabled policy under PEFT)."""
        if "ref_chosen_logps" in inputs:
            return inputs["ref_chosen_logps"], inputs["ref_rejected_logps"]
        mode = self.args.forward_mode
        with torch.no_grad(), disable_gradient_checkpointing(self.model, self.args.gradient_checkpointing_kwargs):
            if self.ref_model is None:
                unwrapped = self.accelerator.unwrap_model(self.model)
                adapter = "ref" if "ref" in unwrapped.peft_config else None
                with use_adapter(unwrapped, adapter_name=adapter), self._initial_image_newline_in_place():
                    reference = pair_logps(self.model, inputs, mode)
            else:
                reference = pair_logps(self.ref_model, inputs, mode)
        return reference.chosen_logps, reference.rejected_logps

    def _compute_loss(self, model: Any, inputs: dict[str, Any], return_outputs: bool) -> Any:
        mode = "train" if self.model.training else "eval"
        policy = pair_logps(model, inputs, self.args.forward_mode)
        ref_chosen, ref_rejected = self.reference_logps(inputs)
        chosen_logratios = policy.chosen_logps - ref_chosen
        rejected_logratios = policy.rejected_logps - ref_rejected
        shift = 0.0
        if "bco_pair" in self.loss_types and self.args.reward_shift:
            if mode == "train":  # every training micro-batch, before the loss reads it (InternVL)
                rewards = (self.beta * chosen_logratios, self.beta * rejected_logratios)
                update_shift(self.reward_shift, *rewards, gather=self.accelerator.gather)
            shift = self.reward_shift.mean
        loss, terms = preference_losses(
            chosen_logratios, rejected_logratios, policy.chosen_nll, self.loss_types, self.loss_weights, self.beta,
            shift=shift, chosen_tokens=policy.chosen_tokens, rejected_tokens=policy.rejected_tokens,
        )  # fmt: skip
        self._log_pair_metrics(mode, inputs, policy, chosen_logratios, rejected_logratios, terms, shift)
        return (loss, None) if return_outputs else loss

    def _log_pair_metrics(
        self,
        mode: str,
        inputs: dict[str, Any],
        policy: PairLogps,
        chosen_logratios: torch.Tensor,
        rejected_logratios: torch.Tensor,
        terms: dict[str, torch.Tensor],
        shift: float,
    ) -> None:
        """TRL's reward and log-prob metrics (same names), each loss term, δ and the token count."""
        metrics, gather = self._metrics[mode], self.accelerator.gather
        chosen_rewards = self.beta * chosen_logratios.detach()
        rejected_rewards = self.beta * rejected_logratios.detach()
        metrics["rewards/chosen"].append(gather(chosen_rewards).mean().item())
        metrics["rewards/rejected"].append(gather(rejected_rewards).mean().item())
        metrics["rewards/accuracies"].append(gather((chosen_rewards > rejected_rewards).float()).mean().item())
        metrics["rewards/margins"].append(gather(chosen_rewards - rejected_rewards).mean().item())
        metrics["logps/chosen"].append(gather(policy.chosen_logps.detach()).mean().item())
        metrics["logps/rejected"].append(gather(policy.rejected_logps.detach()).mean().item())
        for name, value in terms.items():
            metrics[f"loss/{name}"].append(gather(value.detach().reshape(1)).mean().item())
        if "bco_pair" in self.loss_types:
            metrics["rewards/shift"].append(shift)
        for name, value in policy.metrics.items():
            metrics[name].append(gather(value.detach().reshape(1)).mean().item())
        if mode == "train":
            mask = inputs.get("attention_mask")
            tokens = mask.sum() if mask is not None and mask.dim() == 2 else torch.tensor(inputs["input_ids"].numel())
            self._total_train_tokens += int(gather(tokens.to(self.accelerator.device).reshape(1)).sum().item())
        metrics["num_tokens"] = [self._total_train_tokens]

    def prediction_step(
        self, model: Any, inputs: dict[str, Any], prediction_loss_only: bool, ignore_keys: list[str] | None = None
    ) -> tuple[torch.Tensor, None, None]:
        """The evaluation loss only (and the logged metrics); no logits are built for `compute_metrics`."""
        inputs = self._prepare_inputs(inputs)
        with torch.no_grad(), self.compute_loss_context_manager():
            loss = self.compute_loss(model, inputs)
        return loss.detach(), None, None


__all__ = ["SHIFT_FILE", "MPOTrainer", "RewardShiftCheckpoint", "frozen_copy"]
