"""Per-pair completion log-probabilities for preference training (DPO / MPO), plain and fast.

`pair_logps(model, inputs, mode)` returns a [`PairLogps`] (summed completion-token log-probs per pair, the chosen
token-mean NLL, token counts) from a collated batch; the MPO trainer computes every loss term from it.

Modes (each takes the batch its own collator builds, `collator_for(mode, processor)` in
`mmreason.train.preference_collators`; all give the plain path's numbers up to float rounding):

- `"plain"`: exactly TRL 1.16 `DPOTrainer._compute_loss` on `DataCollatorForVisionPreference` output: 2B rows
  (chosen first, then rejected), images repeated, one forward with TRL's fused LM head.
- `"vision_once"`: the same 2B text rows, but each pair's images are encoded once (vision tower + projector) and
  the features are reused for its chosen and rejected rows (`mm_encoder_outputs`).
- `"shared_prompt"`: one row per pair, `prompt + chosen + last prompt token + rejected`, with a 4D mask that hides
  the chosen branch from the rejected one and positions restarting after the prompt; the prompt (and its images)
  runs through the LM once. Needs an attention backend that takes a custom 4D mask (`sdpa`, `eager`);
  `flash_attention_*` and `flex_attention` do not (raises).
- `"packed"`: padding-free: all 2B `prompt + completion` sequences in one row with restarting `position_ids` (the
  form transformers turns into a block-diagonal mask for sdpa/eager and into `cu_seqlens` for flash-attention), each
  pair's images encoded once.

The model gets TRL's fused LM head (`trl.trainer.add_fused_lm_head`, as `DPOTrainer` adds it) on first use when it
does not have one, so log-probs are computed without materialising the `(rows, length, vocab)` logits.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import torch
from datasets import Dataset
from transformers import ProcessorMixin
from transformers.modeling_outputs import BaseModelOutputWithPooling

MODES = ("plain", "vision_once", "shared_prompt", "packed")
#: Collator outputs that are not model inputs.
NON_MODEL_KEYS = frozenset(
    {"completion_mask", "completion_ids", "ref_chosen_logps", "ref_rejected_logps", "branch_ids", "num_pairs"}
)
#: The image inputs `get_image_features` takes (a LLaVA-OneVision-style backbone's).
IMAGE_KEYS = ("pixel_values", "image_sizes", "batch_num_images")
#: Attention implementations that take a custom 4D float mask as is.
MASK_4D_ATTENTION = ("sdpa", "eager")


@dataclass
class PairLogps:
    """Completion log-probabilities of B preference pairs.

    Attributes:
        chosen_logps, rejected_logps: `(B,)` sums of the completion tokens' log-probs (TRL's `logps`).
        chosen_nll: scalar, the mean NLL over all chosen completion tokens of the batch (TRL's `"sft"` term).
        chosen_tokens, rejected_tokens: `(B,)` completion token counts.
        metrics: optional detached extras (`"entropy"`: mean completion-token entropy, when the head computes it).
    """

    chosen_logps: torch.Tensor
    rejected_logps: torch.Tensor
    chosen_nll: torch.Tensor
    chosen_tokens: torch.Tensor
    rejected_tokens: torch.Tensor
    metrics: dict[str, torch.Tensor] = field(default_factory=dict)


def pair_logps(model: torch.nn.Module, inputs: dict, mode: str = "plain") -> PairLogps:
    """Completion log-probs of the pairs in `inputs` (the collated batch of `mode`'s collator) under `model`.

    `model` is a LLaVA-OneVision-style image-text-to-text model (mmreason's or transformers' own), possibly wrapped
    (DDP, PEFT); gradients flow unless called under `torch.no_grad()` (the reference model).
    """
    if mode not in MODES:
        raise ValueError(f"Unknown preference forward mode {mode!r}; expected one of {MODES}.")
    ensure_fused_lm_head(model)
    model_kwargs = {k: v for k, v in inputs.items() if k not in NON_MODEL_KEYS}
    completion_ids = _completion_ids(inputs, mode)
    if mode in ("vision_once", "packed"):
        _encode_images_once(model, model_kwargs, repeats=2)
    if mode == "shared_prompt":
        _check_4d_mask_support(model)
        model_kwargs["attention_mask"] = branch_attention_mask(inputs["branch_ids"], _mask_dtype(model))
    if mode == "packed":
        model_kwargs.pop("attention_mask", None)  # sequences are told apart by the restarting position_ids
    labels = model_kwargs["input_ids"].masked_fill(completion_ids < 0, -100)
    with _features_given(model, "mm_encoder_outputs" in model_kwargs):
        outputs = model(**model_kwargs, labels=labels, use_cache=False, fused_lm_head=True)
    shifted = completion_ids[:, 1:]
    per_token = outputs.log_probs[:, -shifted.size(1) :]
    return _reduce(per_token, shifted, _num_pairs(inputs, mode), getattr(outputs, "entropy", None))


def precompute_ref_logps(
    ref_model: torch.nn.Module,
    dataset: Dataset,
    processor: ProcessorMixin,
    *,
    mode: str = "vision_once",
    batch_size: int = 8,
    max_length: int | None = None,
) -> Dataset:
    """`dataset` plus `ref_chosen_logps` / `ref_rejected_logps` columns: the reference model's completion log-probs,
    computed once over the dataset (in `mode`, eval mode, no grad) for vision preference rows, which TRL 1.16's
    `precompute_ref_log_probs` refuses. Every collator of `collator_for` carries the columns into its batches;
    a trainer then reads `inputs["ref_chosen_logps"]` instead of running the reference model.
    """
    from .preference_collators import collator_for

    collator = collator_for(mode, processor, max_length=max_length)
    chosen, rejected = [], []
    was_training = ref_model.training
    ref_model.eval()
    try:
        with torch.no_grad():
            for start in range(0, len(dataset), batch_size):
                rows = [dataset[i] for i in range(start, min(start + batch_size, len(dataset)))]
                batch = _to_device(collator(rows), _float_param(ref_model).device)
                logps = pair_logps(ref_model, batch, mode)
                chosen += logps.chosen_logps.float().cpu().tolist()
                rejected += logps.rejected_logps.float().cpu().tolist()
    finally:
        ref_model.train(was_training)
    for column in ("ref_chosen_logps", "ref_rejected_logps"):
        if column in dataset.column_names:
            dataset = dataset.remove_columns(column)
    return dataset.add_column("ref_chosen_logps", chosen).add_column("ref_rejected_logps", rejected)


def ensure_fused_lm_head(model: torch.nn.Module) -> None:
    """Add TRL's fused LM head to the underlying model unless it has one (what `DPOTrainer.__init__` does)."""
    from trl.trainer import add_fused_lm_head

    core = _core_model(model)
    if "forward" not in vars(core):  # add_fused_lm_head binds an instance-level forward
        add_fused_lm_head(core, outputs=("log_probs", "entropy"))


def branch_attention_mask(branch_ids: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """The 4D mask `(rows, 1, T, T)` of shared-prompt rows: boolean (True = attend; what sdpa takes, 1 byte per
    entry) for `dtype=torch.bool`, else additive in `dtype` (0 = attend, dtype's min = hidden; what eager needs).

    `branch_ids` `(rows, T)`: 0 = shared prompt, 1 = chosen branch, 2 = rejected branch, -1 = padding. A token
    attends to earlier-or-same tokens of the shared prompt and of its own branch; padding queries attend to
    themselves only (their outputs are never read).
    """
    length = branch_ids.size(1)
    causal = torch.ones(length, length, dtype=torch.bool, device=branch_ids.device).tril()
    query, key = branch_ids[:, :, None], branch_ids[:, None, :]
    visible = causal & (query >= 0) & (key >= 0) & ((key == 0) | (key == query))
    visible |= torch.eye(length, dtype=torch.bool, device=branch_ids.device)
    if dtype == torch.bool:
        return visible[:, None]
    mask = torch.zeros(visible.shape, dtype=dtype, device=branch_ids.device)
    return mask.masked_fill(~visible, torch.finfo(dtype).min)[:, None]


def _completion_ids(inputs: dict, mode: str) -> torch.Tensor:
    """`(rows, T)`: for each token, the completion it belongs to (0..B-1 chosen, B..2B-1 rejected) or -1."""
    if mode in ("plain", "vision_once"):
        mask = inputs["completion_mask"]
        rows = torch.arange(mask.size(0), device=mask.device)[:, None].expand_as(mask)
        return torch.where(mask.bool(), rows, torch.full_like(rows, -1))
    return inputs["completion_ids"]


def _num_pairs(inputs: dict, mode: str) -> int:
    rows = inputs["input_ids"].size(0)
    if mode in ("plain", "vision_once"):
        return rows // 2
    return rows if mode == "shared_prompt" else int(inputs["num_pairs"])


def _reduce(
    per_token: torch.Tensor, completion_ids: torch.Tensor, pairs: int, entropy: torch.Tensor | None
) -> PairLogps:
    """Sum per-token log-probs into their completions (ids 0..2B-1 as in `_completion_ids`)."""
    valid = completion_ids >= 0
    ids = completion_ids[valid]
    num = 2 * pairs
    sums = per_token.new_zeros(num).index_add(0, ids, per_token[valid])
    counts = torch.bincount(ids, minlength=num)
    chosen_tokens, rejected_tokens = counts[:pairs], counts[pairs:]
    chosen_nll = -sums[:pairs].sum() / chosen_tokens.sum()
    metrics = {}
    if entropy is not None:
        metrics["entropy"] = (entropy[:, -per_token.size(1) :][valid].detach().sum() / max(ids.numel(), 1)).detach()
    return PairLogps(sums[:pairs], sums[pairs:], chosen_nll, chosen_tokens, rejected_tokens, metrics)


def _encode_images_once(model: torch.nn.Module, model_kwargs: dict, repeats: int) -> None:
    """Replace the image inputs of `model_kwargs` (one copy per pair) by their features, repeated `repeats` times
    in order (all pairs' features for the chosen rows, then again for the rejected rows)."""
    if model_kwargs.get("pixel_values") is None:
        for key in IMAGE_KEYS:
            model_kwargs.pop(key, None)
        return
    image_inputs = {key: model_kwargs.pop(key) for key in IMAGE_KEYS if key in model_kwargs}
    encoded = _core_model(model).base_model.get_image_features(**image_inputs, return_dict=True)
    features = list(encoded.pooler_output) * repeats
    model_kwargs["mm_encoder_outputs"] = {"image": BaseModelOutputWithPooling(pooler_output=features)}


@contextlib.contextmanager
def _features_given(model: torch.nn.Module, given: bool) -> Iterator[None]:
    """With image features passed as `mm_encoder_outputs`, switch off mmreason's zero-weight blank-tile vision
    forward (`MMReasonModel.dummy_vision_forward`, meant for batches without media) for this call."""
    modules = [m for m in _core_model(model).modules() if getattr(m, "dummy_vision_forward", False)] if given else []
    for module in modules:
        module.dummy_vision_forward = False
    try:
        yield
    finally:
        for module in modules:
            module.dummy_vision_forward = True


def _core_model(model: torch.nn.Module) -> torch.nn.Module:
    """The transformers model under DDP/DeepSpeed (`.module`) and PEFT (`get_base_model()`) wrappers."""
    while hasattr(model, "module") and isinstance(model.module, torch.nn.Module):
        model = model.module
    get_base_model = getattr(model, "get_base_model", None)
    return get_base_model() if callable(get_base_model) else model


def _float_param(model: torch.nn.Module) -> torch.Tensor:
    return _core_model(model).get_input_embeddings().weight


def _mask_dtype(model: torch.nn.Module) -> torch.dtype:
    implementation = _core_model(model).config.get_text_config()._attn_implementation
    return torch.bool if implementation == "sdpa" else _float_param(model).dtype


def _to_device(batch: dict, device: torch.device) -> dict:
    return {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}


def _check_4d_mask_support(model: torch.nn.Module) -> None:
    implementation = _core_model(model).config.get_text_config()._attn_implementation
    if implementation not in MASK_4D_ATTENTION:
        raise ValueError(
            f"mode='shared_prompt' needs an attention backend that takes a custom 4D mask ({MASK_4D_ATTENTION}); "
            f"the language model uses {implementation!r}. Use mode='packed' (padding-free) or 'vision_once'."
        )


__all__ = ["MODES", "PairLogps", "branch_attention_mask", "ensure_fused_lm_head", "pair_logps", "precompute_ref_logps"]
