"""Collators for the fast preference forwards of `mmreason.train.preference_forward` (one per mode).

Each renders and tokenizes a pair exactly as TRL 1.16's `DataCollatorForVisionPreference` does (TRL's
`prepare_multimodal_messages` + `apply_chat_template`, the processor on the prompt with its images and on each
completion as text), and processes each pair's images once. They differ in the layout of the token rows:

- `vision_once`: TRL's 2B rows (`prompt + chosen` rows, then `prompt + rejected` rows, right-padded).
- `shared_prompt`: B rows `prompt + chosen + last prompt token + rejected`, with `branch_ids` (0 shared prompt,
  1 chosen branch, 2 rejected branch, -1 padding) and `position_ids` restarting at the last prompt token for the
  rejected branch: the rejected branch sees the prompt (bar its last token, which it repeats) and itself only.
- `packed`: one row holding all 2B `prompt + completion` sequences, `position_ids` restarting at each.

Fast-mode batches carry `completion_ids` (per token: 0..B-1 chosen completion of pair i, B..2B-1 rejected, -1
none) instead of a 0/1 `completion_mask`. `max_length` truncates each `prompt + completion` sequence as TRL does
(keep the start); a prompt longer than `max_length` is refused (TRL would cut its image tokens).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from transformers import ProcessorMixin
from transformers.data.data_collator import DataCollatorMixin
from trl.data_utils import apply_chat_template, is_conversational, prepare_multimodal_messages
from trl.trainer.dpo_trainer import DataCollatorForVisionPreference

from .preference_forward import MODES


@dataclass
class TokenizedPairs:
    """B pairs as token id lists, plus the processor's image inputs for their prompts (each image once)."""

    prompts: list[list[int]]
    chosen: list[list[int]]
    rejected: list[list[int]]
    image_inputs: dict[str, torch.Tensor]
    pad_token_id: int


def tokenize_pairs(processor: ProcessorMixin, examples: list[dict], max_length: int | None = None) -> TokenizedPairs:
    """Render and tokenize preference rows (`prompt`, `chosen`, `rejected`, `images`/`image`) as TRL's
    vision-preference collator does, with each pair's images processed once."""
    examples = [dict(example) for example in examples]
    for example in examples:
        if "image" in example:
            example["images"] = [example.pop("image")]
        example.setdefault("images", [])
    images = [example["images"] for example in examples]
    if all(not image_list for image_list in images):
        images = None
    if is_conversational(examples[0]):
        for example in examples:
            example["prompt"] = prepare_multimodal_messages(example["prompt"], images=example["images"])
            example["chosen"] = prepare_multimodal_messages(example["chosen"])
            example["rejected"] = prepare_multimodal_messages(example["rejected"])
        examples = [apply_chat_template(example, processor) for example in examples]
    common = {"padding": True, "padding_side": "right", "return_tensors": "pt", "add_special_tokens": False}
    prompts = processor(images=images, text=[example["prompt"] for example in examples], **common)
    chosen = processor(text=[example["chosen"] for example in examples], **common)
    rejected = processor(text=[example["rejected"] for example in examples], **common)
    tokenizer = processor.tokenizer
    pairs = TokenizedPairs(
        prompts=_unpad(prompts),
        chosen=_unpad(chosen),
        rejected=_unpad(rejected),
        image_inputs={k: v for k, v in prompts.items() if k not in ("input_ids", "attention_mask")},
        pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id,  # as TRL
    )
    if max_length is not None:
        _truncate(pairs, max_length)
    return pairs


def _unpad(encoding: Any) -> list[list[int]]:
    return [ids[mask.bool()].tolist() for ids, mask in zip(encoding["input_ids"], encoding["attention_mask"])]


def _truncate(pairs: TokenizedPairs, max_length: int) -> None:
    for index, prompt in enumerate(pairs.prompts):
        if len(prompt) > max_length:
            raise ValueError(f"A prompt has {len(prompt)} tokens, more than max_length={max_length}.")
        room = max_length - len(prompt)
        pairs.chosen[index] = pairs.chosen[index][:room]
        pairs.rejected[index] = pairs.rejected[index][:room]


def _pad_rows(rows: list[list[int]], value: int) -> torch.Tensor:
    length = max(len(row) for row in rows)
    return torch.tensor([row + [value] * (length - len(row)) for row in rows], dtype=torch.long)


REFERENCE_COLUMNS = ("ref_chosen_logps", "ref_rejected_logps")


def reference_columns(examples: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
    """Precomputed reference log-probs of the examples (`precompute_ref_logps`' columns) as `(B,)` tensors."""
    if REFERENCE_COLUMNS[0] not in examples[0]:
        return {}
    return {key: torch.tensor([float(example[key]) for example in examples]) for key in REFERENCE_COLUMNS}


@dataclass
class _PreferenceCollator(DataCollatorMixin):
    processor: ProcessorMixin
    max_length: int | None = None
    return_tensors: str = "pt"

    def torch_call(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
        pairs = tokenize_pairs(self.processor, examples, self.max_length)
        return {**pairs.image_inputs, **self.layout(pairs), **reference_columns(examples)}

    def layout(self, pairs: TokenizedPairs) -> dict[str, torch.Tensor]:
        raise NotImplementedError


@dataclass
class VisionOncePreferenceCollator(_PreferenceCollator):
    """TRL's 2B rows (`input_ids`, `attention_mask`, `completion_mask`), each pair's images once."""

    def layout(self, pairs: TokenizedPairs) -> dict[str, torch.Tensor]:
        completions = pairs.chosen + pairs.rejected
        prompts = pairs.prompts * 2
        rows = [p + c for p, c in zip(prompts, completions)]
        flags = [[0] * len(p) + [1] * len(c) for p, c in zip(prompts, completions)]
        return {
            "input_ids": _pad_rows(rows, pairs.pad_token_id),
            "attention_mask": _pad_rows([[1] * len(row) for row in rows], 0),
            "completion_mask": _pad_rows(flags, 0),
        }


@dataclass
class SharedPromptPreferenceCollator(_PreferenceCollator):
    """B rows `prompt + chosen + last prompt token + rejected` with `branch_ids`, `position_ids`, `completion_ids`."""

    def layout(self, pairs: TokenizedPairs) -> dict[str, torch.Tensor]:
        count = len(pairs.prompts)
        rows, branches, positions, completions = [], [], [], []
        for index, (prompt, chosen, rejected) in enumerate(zip(pairs.prompts, pairs.chosen, pairs.rejected)):
            shared = len(prompt) - 1
            rows.append(prompt + chosen + prompt[-1:] + rejected)
            branches.append([0] * shared + [1] * (1 + len(chosen)) + [2] * (1 + len(rejected)))
            positions.append(list(range(shared + 1 + len(chosen))) + list(range(shared, shared + 1 + len(rejected))))
            completions.append([-1] * (shared + 1) + [index] * len(chosen) + [-1] + [count + index] * len(rejected))
        return {
            "input_ids": _pad_rows(rows, pairs.pad_token_id),
            "attention_mask": _pad_rows([[1] * len(row) for row in rows], 0),
            "branch_ids": _pad_rows(branches, -1),
            "position_ids": _pad_rows(positions, 0),
            "completion_ids": _pad_rows(completions, -1),
        }


@dataclass
class PackedPreferenceCollator(_PreferenceCollator):
    """One padding-free row of all 2B sequences (chosen ones first), `position_ids` restarting at each."""

    def layout(self, pairs: TokenizedPairs) -> dict[str, torch.Tensor]:
        count = len(pairs.prompts)
        ids, positions, completions = [], [], []
        for index, (prompt, completion) in enumerate(zip(pairs.prompts * 2, pairs.chosen + pairs.rejected)):
            ids += prompt + completion
            positions += range(len(prompt) + len(completion))
            completions += [-1] * len(prompt) + [index] * len(completion)
        return {
            "input_ids": torch.tensor([ids]),
            "attention_mask": torch.ones(1, len(ids), dtype=torch.long),  # metrics only; the forward drops it
            "position_ids": torch.tensor([positions]),
            "completion_ids": torch.tensor([completions]),
            "num_pairs": torch.tensor(count),
        }


@dataclass
class PlainPreferenceCollator(DataCollatorForVisionPreference):
    """TRL's `DataCollatorForVisionPreference`, plus the precomputed reference columns when the rows have them."""

    def torch_call(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
        references = reference_columns(examples)
        return {**super().torch_call([dict(example) for example in examples]), **references}


def collator_for(mode: str, processor: ProcessorMixin, max_length: int | None = None) -> DataCollatorMixin:
    """The collator whose batches `pair_logps(model, batch, mode)` takes (`plain`: TRL's own)."""
    collators = {
        "plain": PlainPreferenceCollator,
        "vision_once": VisionOncePreferenceCollator,
        "shared_prompt": SharedPromptPreferenceCollator,
        "packed": PackedPreferenceCollator,
    }
    if mode not in collators:
        raise ValueError(f"Unknown preference forward mode {mode!r}; expected one of {MODES}.")
    return collators[mode](processor=processor, max_length=max_length)


__all__ = [
    "REFERENCE_COLUMNS",
    "PackedPreferenceCollator",
    "PlainPreferenceCollator",
    "SharedPromptPreferenceCollator",
    "TokenizedPairs",
    "VisionOncePreferenceCollator",
    "collator_for",
    "reference_columns",
    "tokenize_pairs",
]
