import pytest
import torch

from mmreason.train import MultimodalSFTCollator, RationaleSFTConfig, RationaleSFTTrainer
from mmreason.train.collator import IGNORE_INDEX, sample_frames

from .helpers import mixed_dataset, mixed_rows


def test_labels_are_assistant_text_only(tiny):
    _, processor = tiny
    rows = mixed_rows(1)
    batch = MultimodalSFTCollator(processor)(rows[:2])
    for row, labels in zip(rows[:2], batch["labels"]):
        supervised = processor.tokenizer.decode(labels[labels != IGNORE_INDEX])
        answer = row["messages"][-1]["content"][0]["text"]
        assert supervised == answer + "<|im_end|>\n"
    assert not ((batch["input_ids"] == processor.image_token_id) & (batch["labels"] != IGNORE_INDEX)).any()


@pytest.mark.parametrize("packed_length", [0, None])  # one row (flash varlen) / rows of the longest sample (SDPA)
def test_packed_loss_equals_unpacked_loss(tiny, tmp_path, packed_length):
    """Through TRL's own compute_loss (fused LM head), with images in several packed samples."""
    model, processor = tiny
    args = RationaleSFTConfig(
        output_dir=str(tmp_path), use_cpu=True, bf16=False, report_to="none", max_length=None,
        per_device_train_batch_size=5,
    )  # fmt: skip
    trainer = RationaleSFTTrainer(model=model, args=args, train_dataset=mixed_dataset(1), processing_class=processor)
    rows = mixed_rows(1)
    chosen = [rows[0], rows[5], rows[6], rows[3], rows[-1]]  # single, multi-image, text-only, single, long
    padded = MultimodalSFTCollator(processor)(chosen)
    packed = MultimodalSFTCollator(processor, packing=True, packed_length=packed_length)(chosen)
    assert "attention_mask" not in packed
    if packed_length == 0:
        assert packed["input_ids"].shape == (1, padded["attention_mask"].sum())
    else:
        assert 1 < packed["input_ids"].shape[0] < len(chosen)
        assert packed["input_ids"].shape[1] == padded["input_ids"].shape[1]  # rows no longer than the longest sample
        assert packed["input_ids"].numel() < padded["input_ids"].numel()
    assert (padded["batch_num_images"] > 0).sum() >= 3
    trainer.model.eval()
    with torch.no_grad():
        loss_padded = trainer.compute_loss(trainer.model, dict(padded))
        loss_packed = trainer.compute_loss(trainer.model, dict(packed))
        separate = [trainer.compute_loss(trainer.model, MultimodalSFTCollator(processor)([row])) for row in chosen]
    assert abs(loss_packed.item() - loss_padded.item()) <= 1e-5
    counts = [(MultimodalSFTCollator(processor)([row])["labels"][0, 1:] != IGNORE_INDEX).sum() for row in chosen]
    reference = sum(loss * n for loss, n in zip(separate, counts)) / sum(counts)  # token-weighted mean
    assert abs(loss_packed.item() - reference.item()) <= 1e-5


class _AddsBos:
    """A processor whose tokenization differs from the chat template's (a BOS token slipped in)."""

    def __init__(self, processor):
        self._processor = processor

    def __getattr__(self, name):
        return getattr(self._processor, name)

    def __call__(self, **kwargs):
        out = self._processor(**kwargs)
        out["input_ids"] = torch.cat([torch.tensor([[0]]), out["input_ids"]], dim=1)
        return out


def test_tokenization_mismatch_raises_instead_of_zero_loss(tiny):
    _, processor = tiny
    with pytest.raises(ValueError, match="tokenization mismatch"):
        MultimodalSFTCollator(_AddsBos(processor))([mixed_rows(1)[0]])


def test_sample_frames_is_llava_next_linspace():
    """LLaVA-NeXT truncates `np.linspace(0, 99, 5)` = 0, 24.75, 49.5, 74.25, 99 (it used to be rounded here)."""
    frames = list(range(100))
    assert sample_frames(frames, 5) == [0, 24, 49, 74, 99]
    assert sample_frames(frames[:3], 32) == [0, 1, 2]


def test_video_rows_train(tiny):
    """An `ov` video row (frames as decoded by torchcodec or given as a list): frames capped, labels on the answer."""
    from mmreason.testing import make_image

    model, processor = tiny
    frames = [make_image(40, 30, seed=i) for i in range(40)]
    row = {
        "id": "v", "images": [], "videos": [frames],
        "messages": [
            {"role": "user", "content": [{"type": "video", "text": None}, {"type": "text", "text": "What moves?"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "A ball."}]},
        ],
    }  # fmt: skip
    batch = MultimodalSFTCollator(processor, max_frames=8)([row, mixed_rows(1)[0]])
    assert batch["pixel_values_videos"].shape[:2] == (1, 8)
    assert (batch["input_ids"][0] == processor.video_token_id).sum() == processor.count_video_tokens(8)
    assert processor.tokenizer.decode(batch["labels"][0][batch["labels"][0] != IGNORE_INDEX]) == "A ball.<|im_end|>\n"
    with torch.no_grad():
        model(**{k: v for k, v in batch.items() if k != "labels"}, use_cache=False)
