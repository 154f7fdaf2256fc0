"""`ReasoningGRPOTrainer`: TRL's `GRPOTrainer` for mmreason models (and any model whose processor emits extra
per-sample keys), on prompt rows with verifiable rewards (`mmreason.rewards`).

What it changes in TRL 1.16's `GRPOTrainer`, and why:

* **Extra per-sample processor keys reach the model.** The log-prob pass has a fixed signature, so `beta > 0` (the
  reference pass forwards every processor output) failed with `TypeError: ... unexpected keyword argument
  'batch_num_images'`; the loss pass forwards a fixed list of keys that drops `batch_num_images`, so a prompt with two
  images was split as two anyres samples (`RuntimeError: split_with_sizes`). Here every extra key whose first
  dimension is the batch is sliced with each chunk of the pass and given to the model; `batch_num_images` is rebuilt
  from TRL's own `num_images` where TRL dropped it.
* **The reference model** (`beta > 0`) is a frozen copy of the prepared policy (or the adapter-disabled base under
  PEFT), as in [`MPOTrainer`]: TRL would re-load it from `config._name_or_path`, which fails for in-memory models and
  for LLaVA-NeXT release folders.
* The shared multimodal set-up (`MultimodalTrainerMixin`): tunable parts, per-part learning rates, geometry, prompt
  hygiene (over-long or broken prompt rows dropped and reported), mmreason's model card.
"""

from __future__ import annotations

import functools
from typing import Any

import datasets
import torch
from peft import PeftModel
from transformers import PreTrainedModel, TrainerCallback
from trl import GRPOTrainer

from ..data.validate import RowCheck, RowValidator
from ..model import MMReasonProcessor
from .grpo_config import ReasoningGRPOConfig
from .multimodal_trainer import MultimodalTrainerMixin, frozen_copy

#: the keys TRL's log-prob pass takes itself (everything else is sliced and given to the model here)
TRL_KEYS = frozenset({
    "pixel_values", "image_grid_thw", "num_images", "pixel_attention_mask", "spatial_shapes", "num_tiles",
    "image_sizes", "token_type_ids", "mm_token_type_ids", "image_position_ids",
})  # fmt: skip


class PromptRowValidator(RowValidator):
    """A [`RowValidator`] for prompt rows (`prompt` + `images`): the prompt checked as a conversation, closed by a
    one-character assistant turn (the checks want one; the length it adds is a token or two)."""

    def check(self, row: dict[str, Any]) -> RowCheck:
        if "prompt" not in row or "messages" in row:
            return super().check(row)
        closing = {"role": "assistant", "content": [{"type": "text", "text": "…"}]}
        return super().check({**row, "messages": [*row["prompt"], closing]})


def default_rewards(args: ReasoningGRPOConfig) -> list[Any]:
    """The config's rewards: `AccuracyReward(args.accuracy_reward)`, plus `FormatReward` when
    `format_reward_weight` is set (then `args.reward_weights` = [1, weight])."""
    from ..rewards import AccuracyReward, FormatReward

    rewards: list[Any] = [AccuracyReward(args.accuracy_reward)]
    if args.format_reward_weight:
        rewards.append(FormatReward())
        args.reward_weights = [1.0, float(args.format_reward_weight)]
    return rewards


class ReasoningGRPOTrainer(MultimodalTrainerMixin, GRPOTrainer):
    """[`GRPOTrainer`] for multimodal reasoning (see the module docstring).

    Args:
        model: a model, or a path in any format mmreason reads.
        reward_funcs: TRL reward functions, e.g. `[AccuracyReward("procedural"), FormatReward()]`; `None`: the
            config's `accuracy_reward` (+ `format_reward_weight`).
        args: a [`ReasoningGRPOConfig`].
        train_dataset / eval_dataset: prompt rows (`prompt`, `images`, reward columns).
        processing_class: the model's processor (default: loaded from the model's folder).
        peft_config: a `peft` config; the reference is then the adapter-disabled base.
    """

    row_validator_class = PromptRowValidator
    card_recipe = "GRPO with verifiable rewards (`ReasoningGRPOTrainer`)"

    def __init__(
        self,
        model: PreTrainedModel | str,
        reward_funcs: Any = None,
        args: ReasoningGRPOConfig | None = None,
        train_dataset: datasets.Dataset | datasets.IterableDataset | None = None,
        eval_dataset: datasets.Dataset | datasets.IterableDataset | None = None,
        processing_class: MMReasonProcessor | None = None,
        peft_config: Any = None,
        callbacks: list[TrainerCallback] | None = None,
        **kwargs: Any,
    ):
        if args is None:
            raise ValueError("ReasoningGRPOTrainer needs a ReasoningGRPOConfig (`args`)")
        model, processor = self.prepare_multimodal(model, args, processing_class, peft_config)
        train_dataset, eval_dataset = self.check_samples(args, processor, train_dataset, eval_dataset)
        if reward_funcs is None:
            reward_funcs = default_rewards(args)
        beta, args.beta = args.beta, 0.0  # TRL would re-load the reference from a path: made here instead
        try:
            super().__init__(
                model=model, reward_funcs=reward_funcs, args=args, train_dataset=train_dataset,
                eval_dataset=eval_dataset, processing_class=processor, peft_config=peft_config,
                callbacks=callbacks, **kwargs,
            )  # fmt: skip
        finally:
            args.beta = beta
        self.beta = beta
        if beta != 0.0 and not isinstance(self.accelerator.unwrap_model(self.model), PeftModel):
            reference = frozen_copy(self.accelerator.unwrap_model(self.model))
            self.ref_model = self.accelerator.prepare_model(reference, evaluation_mode=True)
        self.finish_setup(peft_config)

    def _get_per_token_logps_and_entropies(
        self, model: Any, input_ids: torch.Tensor, attention_mask: torch.Tensor, logits_to_keep: int,
        batch_size: int | None = None, compute_entropy: bool = False, compute_aux_loss: bool = False, **inputs: Any,
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:  # fmt: skip
        """TRL's pass, chunk by chunk, with the extra per-sample keys (see the module docstring) given to the model."""
        rows = input_ids.size(0)
        extra = {k: v for k, v in inputs.items() if k not in TRL_KEYS and v is not None}
        known = {k: v for k, v in inputs.items() if k in TRL_KEYS}
        num_images = known.get("num_images")
        if "batch_num_images" not in extra and num_images is not None and known.get("pixel_values") is not None:
            extra["batch_num_images"] = torch.as_tensor(num_images, device=input_ids.device)
        counts = extra.get("batch_num_images")
        if counts is not None and len(extra) == 1 and bool((torch.as_tensor(counts) == 1).all()):
            extra = {}  # one image per prompt: the model's default, TRL's own pass is exact
        if not extra:
            return super()._get_per_token_logps_and_entropies(
                model, input_ids, attention_mask, logits_to_keep, batch_size, compute_entropy, compute_aux_loss,
                **known,
            )  # fmt: skip
        per_sample = {k: v for k, v in extra.items() if hasattr(v, "__len__") and len(v) == rows}
        unknown = sorted(set(extra) - set(per_sample))
        if unknown:
            raise ValueError(f"processor outputs {unknown} are neither TRL's keys nor per-sample: cannot chunk them")
        step = batch_size or rows
        images = [0, *torch.as_tensor(num_images or [0] * rows).cumsum(0).tolist()]
        outputs = []
        for start in range(0, rows, step):
            end = min(start + step, rows)
            chunk = {k: v for k, v in known.items() if v is not None}
            for key in ("pixel_values", "image_sizes"):  # per image
                if key in chunk and num_images is not None:
                    chunk[key] = chunk[key][images[start] : images[end]]
            if num_images is not None:
                chunk["num_images"] = list(num_images[start:end])
            for key in ("token_type_ids", "mm_token_type_ids"):  # per sample
                if key in chunk:
                    chunk[key] = chunk[key][start:end]
            bound = functools.partial(model, **{k: v[start:end] for k, v in per_sample.items()})
            outputs.append(super()._get_per_token_logps_and_entropies(
                bound, input_ids[start:end], attention_mask[start:end], logits_to_keep, None, compute_entropy,
                compute_aux_loss, **chunk,
            ))  # fmt: skip
        logps = torch.cat([o[0] for o in outputs])
        entropies = torch.cat([o[1] for o in outputs]) if compute_entropy else None
        aux = torch.stack([o[2] for o in outputs]).mean() if compute_aux_loss else None
        return logps, entropies, aux


__all__ = ["PromptRowValidator", "ReasoningGRPOConfig", "ReasoningGRPOTrainer", "default_rewards"]
