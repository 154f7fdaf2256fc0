"""Collator for canonical rows: labels from the chat template, padded or padding-free packed.

Per sample:
1. the messages are checked (`chat_templates.check_messages`: a `None` text, dict content or an unknown part raise
   a `ChatContentError` naming the sample), then rendered and tokenized with the chat template
   (`{% generation %}` markers give the assistant mask), without media;
2. the processor expands the same text with the sample's images / video frames (exact anyres token counts);
3. the label mask is carried over to the expanded ids: every placeholder run is unsupervised, and every other
   token must match one to one. A mismatch raises (LLaVA's "tokenization mismatch" turned into an error instead
   of a silently zero-loss sample).

Label modes (`label_mode`):
* `"assistant_only"`: the generation markers, i.e. each assistant turn's content and its `<|im_end|>\n`.
* `"llava_next"`: LLaVA-NeXT's `preprocess_qwen` exactly: each whole assistant turn, its `<|im_start|>assistant\n`
  header included, plus every `\n`, `<|im_start|>` and `<|im_end|>` token anywhere (system and user turns too).
  It needs a ChatML template (`qwen_2_5`); LLaVA's `plain` pre-training labels are `"assistant_only"`.
Image and video tokens are never supervised (LLaVA gives the image features `IGNORE_INDEX`).

Batches are either right-padded (`attention_mask`), or packed (`packing=True`): samples are placed first-fit
decreasing into rows of `packed_length` tokens (default: the batch's longest sample, so a row never costs more
attention than a padded row; flash-attention's varlen kernels take one row of everything, `packed_length=0`),
with `position_ids` restarting at 0 per sample, no `attention_mask` and `use_cache=False`, so transformers
builds a block-diagonal causal mask (SDPA/eager) or runs varlen flash-attention from the position ids. The
`use_cache=False` is what keeps the samples apart in a plain `model(**batch)`: with a cache (Qwen2's default)
transformers' masking utils skip packed-sequence detection and attend across the whole row. Row tails are padded
as their own short sequence. The first label of each sample is -100 so no sample predicts its neighbour, and the
summed loss over supervised tokens equals the unpacked batch's. Vision inputs follow the samples' order in the rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from ..model.chat_templates import ChatContentError, check_messages
from ..model.frame_sampling import sample_frame_indices
from ..model.processing_mmreason import MMReasonProcessor

IGNORE_INDEX = -100
LABEL_MODES = ("assistant_only", "llava_next")


def placeholder_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages as the chat template reads them: bare placeholder parts (`{"type": "image"}`, the `text: None`
    Arrow fills into them dropped) and text parts; a [`ChatContentError`] for what the template refuses."""
    return check_messages(messages)


def sample_frames(video: Any, max_frames: int, video_fps: float | None = None) -> list[Any]:
    """The frames LLaVA-NeXT keeps ([`sample_frame_indices`]) of a video: a list of frames, a (T, H, W, C) array,
    or a torchcodec `VideoDecoder` (what `datasets.Video()` decodes to; only the kept frames are decoded, and
    its `average_fps` sets the `video_fps` stride when `video_fps` is given)."""
    if hasattr(video, "get_frames_at") and hasattr(video, "metadata"):  # torchcodec
        fps = getattr(video.metadata, "average_fps", None)
        indices = sample_frame_indices(int(video.metadata.num_frames), max_frames, fps, video_fps)
        return list(video.get_frames_at(indices=indices).data.permute(0, 2, 3, 1).numpy())
    frames = list(video)
    return [frames[i] for i in sample_frame_indices(len(frames), max_frames)]


def _runs(ids: list[int], special: set[int]) -> list[tuple[int, int]]:
    """(token, length) runs, where consecutive special tokens of the same id form one run."""
    runs: list[tuple[int, int]] = []
    for token in ids:
        if runs and token in special and runs[-1][0] == token:
            runs[-1] = (token, runs[-1][1] + 1)
        else:
            runs.append((token, 1))
    return runs


@dataclass
class MultimodalSFTCollator:
    """Collate canonical rows (`messages`, `images`, `videos`) for [`RationaleSFTTrainer`].

    Args:
        processor: the model's [`MMReasonProcessor`].
        chat_template: template to render with (default: the processor's).
        assistant_only_loss: supervise by `label_mode` (else every non-placeholder token).
        label_mode: `"assistant_only"` (the template's generation markers) or `"llava_next"` (LLaVA-NeXT's
            `preprocess_qwen`: whole assistant turns plus every `\n`/`<|im_start|>`/`<|im_end|>`); see above.
        packing: pack the batch's samples into as few rows as fit (position-id restarts, no padding inside).
        packed_length: row length when packing; `None`: the longest sample of the batch; `0`: one row.
        max_frames: frames sampled per video (LLaVA-NeXT's `frames_upbound`).
        video_fps: LLaVA-NeXT's `video_fps` stride for decoded video files (`None`: sample over all frames).
    """

    processor: MMReasonProcessor
    chat_template: str | None = None
    assistant_only_loss: bool = True
    label_mode: str = "assistant_only"
    packing: bool = False
    packed_length: int | None = None
    max_frames: int = 32
    video_fps: float | None = None

    def __post_init__(self) -> None:
        if self.label_mode not in LABEL_MODES:
            raise ValueError(f"label_mode must be one of {LABEL_MODES}, not {self.label_mode!r}")

    def encode(self, example: dict[str, Any]) -> dict[str, Any]:
        """One sample: `input_ids`, `labels` (1-D) and its vision inputs."""
        processor, tokenizer = self.processor, self.processor.tokenizer
        images = list(example.get("images") or [])
        videos = [sample_frames(video, self.max_frames, self.video_fps) for video in example.get("videos") or []]
        try:
            messages = check_messages(example["messages"])
        except ChatContentError as error:
            raise ChatContentError(f"sample {example.get('id')!r}: {error}") from error
        template = self.chat_template or processor.chat_template
        rendered = tokenizer.apply_chat_template(
            messages, chat_template=template, tokenize=True, return_dict=True, return_assistant_tokens_mask=True
        )
        text = tokenizer.apply_chat_template(messages, chat_template=template, tokenize=False)
        inputs = processor(
            text=[text], images=images or None, videos=videos or None, return_tensors="pt", add_special_tokens=False,
            max_frames=self.max_frames,
        )  # fmt: skip
        ids = inputs["input_ids"][0]
        mask = rendered["assistant_masks"]
        if self.label_mode == "llava_next":
            mask = self._llava_next_mask(rendered["input_ids"], mask, example)
        mask = self._expand_mask(rendered["input_ids"], mask, ids.tolist(), example)
        labels = ids.clone()
        if self.assistant_only_loss:
            labels[~torch.tensor(mask, dtype=torch.bool)] = IGNORE_INDEX
        labels[(ids == processor.image_token_id) | (ids == processor.video_token_id)] = IGNORE_INDEX
        vision = {k: v for k, v in inputs.items() if k not in ("input_ids", "attention_mask")}
        vision.setdefault("batch_num_images", torch.tensor([len(images)]))
        return {"input_ids": ids, "labels": labels, **vision}

    def _llava_next_mask(self, ids: list[int], mask: list[int], example: dict) -> list[int]:
        """`preprocess_qwen`'s labels on the rendered ids: each generation span widened back to its turn's
        `<|im_start|>`, then every `\n`, `<|im_start|>` and `<|im_end|>` token un-masked."""
        tokenizer = self.processor.tokenizer
        im_start, im_end = tokenizer.convert_tokens_to_ids(["<|im_start|>", "<|im_end|>"])
        newline = tokenizer("\n", add_special_tokens=False)["input_ids"]
        if len(newline) != 1:
            raise ValueError(f"label_mode='llava_next' needs '\\n' to be one token, got {newline}")
        out = list(mask)
        for end in range(len(ids)):
            if mask[end] and (end == 0 or not mask[end - 1]):  # a generation span starts: take its turn header
                start = end - 1
                while start >= 0 and ids[start] != im_start and not mask[start]:
                    start -= 1
                if start < 0:  # stopped on <|im_start|> or on an earlier span of the same turn, else no header
                    raise ValueError(
                        f"sample {example.get('id')!r}: label_mode='llava_next' is preprocess_qwen's ChatML rule, "
                        "but this template's assistant turn has no <|im_start|> header (use 'assistant_only')"
                    )
                out[start:end] = [1] * (end - start)
        return [1 if token in (newline[0], im_start, im_end) else m for token, m in zip(ids, out)]

    def _expand_mask(self, short: list[int], mask: list[int], expanded: list[int], example: dict) -> list[int]:
        special = {self.processor.image_token_id, self.processor.video_token_id}
        out: list[int] = []
        position = 0
        long_runs = _runs(expanded, special)
        short_runs = _runs(short, special)
        if [t for t, _ in short_runs] != [t for t, _ in long_runs]:
            raise ValueError(
                f"sample {example.get('id')!r}: the processor's tokens differ from the chat template's "
                "(tokenization mismatch); refusing to train on misaligned labels"
            )
        for (token, short_len), (_, long_len) in zip(short_runs, long_runs):
            if token in special:
                out.extend([0] * long_len)
            else:
                out.extend(mask[position : position + short_len])
            position += short_len
        return out

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
        samples = [self.encode(example) for example in examples]
        if not self.packing:
            return {**self._pad(samples), **_stack_vision(samples)}
        rows = self._bins(samples)
        ordered = [sample for row in rows for sample in row]
        return {**self._pack(rows), **_stack_vision(ordered)}

    def _bins(self, samples: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
        """First-fit decreasing into rows of `packed_length` tokens."""
        lengths = [len(s["input_ids"]) for s in samples]
        capacity = self.packed_length if self.packed_length is not None else max(lengths)
        if capacity == 0:
            return [samples]
        rows: list[list[dict[str, Any]]] = []
        room: list[int] = []
        for index in sorted(range(len(samples)), key=lambda i: -lengths[i]):
            row = next((r for r, free in enumerate(room) if free >= lengths[index]), None)
            if row is None:
                rows.append([])
                room.append(max(capacity, lengths[index]))
                row = len(rows) - 1
            rows[row].append(samples[index])
            room[row] -= lengths[index]
        return rows

    def _pad(self, samples: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        longest = max(len(s["input_ids"]) for s in samples)
        pad = self.processor.tokenizer.pad_token_id
        ids = torch.full((len(samples), longest), pad, dtype=torch.long)
        labels = torch.full((len(samples), longest), IGNORE_INDEX, dtype=torch.long)
        attention = torch.zeros((len(samples), longest), dtype=torch.long)
        for row, sample in enumerate(samples):
            n = len(sample["input_ids"])
            ids[row, :n], labels[row, :n], attention[row, :n] = sample["input_ids"], sample["labels"], 1
        return {"input_ids": ids, "labels": labels, "attention_mask": attention}

    def _pack(self, rows: list[list[dict[str, Any]]]) -> dict[str, torch.Tensor]:
        width = max(sum(len(s["input_ids"]) for s in row) for row in rows)
        pad = self.processor.tokenizer.pad_token_id
        ids = torch.full((len(rows), width), pad, dtype=torch.long)
        labels = torch.full((len(rows), width), IGNORE_INDEX, dtype=torch.long)
        positions = torch.zeros((len(rows), width), dtype=torch.long)
        for r, row in enumerate(rows):
            start = 0
            for sample in row:
                n = len(sample["input_ids"])
                ids[r, start : start + n] = sample["input_ids"]
                labels[r, start : start + n] = sample["labels"]
                labels[r, start] = IGNORE_INDEX  # never predict a sample's first token from its neighbour
                positions[r, start : start + n] = torch.arange(n)
                start += n
            positions[r, start:] = torch.arange(width - start)  # the tail is its own (ignored) sequence
        # no cache: with one, transformers' masking utils ignore the packed position ids and attend across samples
        return {"input_ids": ids, "labels": labels, "position_ids": positions, "use_cache": False}


def _stack_vision(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Concatenate the per-sample vision inputs; anyres patch counts are zero-padded to the batch maximum, as the
    processor pads them for a batch."""
    out: dict[str, Any] = {"batch_num_images": torch.cat([s["batch_num_images"] for s in samples])}
    images = [s["pixel_values"] for s in samples if "pixel_values" in s]
    if images:
        longest = max(t.shape[1] for t in images)
        out["pixel_values"] = torch.cat(
            [torch.nn.functional.pad(t, (0, 0, 0, 0, 0, 0, 0, longest - t.shape[1])) for t in images]
        )
    videos = [s["pixel_values_videos"] for s in samples if "pixel_values_videos" in s]
    if videos:
        if len({t.shape[1] for t in videos}) > 1:
            raise ValueError(
                f"videos in one batch need equal frame counts, got {[t.shape[1] for t in videos]}; lower "
                "`frames_upbound` or use per_device_train_batch_size=1 for video data"
            )
        out["pixel_values_videos"] = torch.cat(videos)
    sizes = [s["image_sizes"] for s in samples if "image_sizes" in s]
    if sizes:
        out["image_sizes"] = torch.cat(sizes)
    if "pixel_values" not in out:
        out.pop("batch_num_images")
    return out


__all__ = ["IGNORE_INDEX", "LABEL_MODES", "MultimodalSFTCollator", "placeholder_messages", "sample_frames"]
