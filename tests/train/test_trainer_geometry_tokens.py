"""A preset never changes a loaded checkpoint's geometry; explicit settings do. Packed runs log the real tokens."""

import pytest

from mmreason.testing import build_tiny
from mmreason.train import RationaleSFTConfig, RationaleSFTTrainer
from mmreason.train.collator import MultimodalSFTCollator
from mmreason.train.sft_trainer import packed_token_count

from .helpers import mixed_dataset, mixed_rows


def _args(tmp_path, **kwargs):
    base = dict(
        output_dir=str(tmp_path), use_cpu=True, bf16=False, report_to="none", logging_steps=1, save_strategy="no",
        per_device_train_batch_size=4, max_steps=2, max_length=None, seed=0, dataloader_num_workers=0,
    )  # fmt: skip
    return RationaleSFTConfig(**{**base, **kwargs})


@pytest.mark.parametrize("stage", ["si", "ov"])
def test_presets_keep_the_checkpoints_geometry(tmp_path, stage):
    model, processor = build_tiny(vision_aspect_ratio="anyres_max_9")
    processor.image_processor.max_frames = 8
    RationaleSFTTrainer(
        model=model, args=_args(tmp_path, stage=stage), train_dataset=mixed_dataset(1), processing_class=processor
    )
    assert model.config.vision_aspect_ratio == processor.vision_aspect_ratio == "anyres_max_9"
    assert processor.image_processor.max_frames == 8


def test_explicit_geometry_is_applied(tmp_path):
    model, processor = build_tiny(vision_aspect_ratio="anyres_max_9")
    args = _args(tmp_path, stage="ov", vision_aspect_ratio="anyres_max_4", frames_upbound=4)
    trainer = RationaleSFTTrainer(model=model, args=args, train_dataset=mixed_dataset(1), processing_class=processor)
    assert model.config.vision_aspect_ratio == processor.vision_aspect_ratio == "anyres_max_4"
    assert processor.image_processor.max_frames == trainer.data_collator.max_frames == 4


def _num_tokens(tmp_path, packing):
    model, processor = build_tiny(seed=2)
    args = _args(tmp_path, multimodal_packing=packing)
    trainer = RationaleSFTTrainer(model=model, args=args, train_dataset=mixed_dataset(), processing_class=processor)
    trainer.train()
    return [log["num_tokens"] for log in trainer.state.log_history if "num_tokens" in log]


def test_packed_runs_log_the_real_token_count(tmp_path):
    """Same samples, same order: the packed run's `num_tokens` equals the padded run's (TRL's attention-mask sum),
    which in turn is the sum of the samples' own lengths."""
    padded, packed = _num_tokens(tmp_path / "padded", False), _num_tokens(tmp_path / "packed", True)
    assert len(padded) == 2 and packed == padded
    _, processor = build_tiny(seed=2)
    lengths = [len(MultimodalSFTCollator(processor)([row])["input_ids"][0]) for row in mixed_rows(1)]
    assert padded[-1] <= 8 * max(lengths) and padded[0] >= 4 * min(lengths)


def test_packed_token_count_excludes_row_tails(tiny):
    _, processor = tiny
    rows = mixed_rows(1)[:5]
    lengths = [len(MultimodalSFTCollator(processor)([row])["input_ids"][0]) for row in rows]
    packed = MultimodalSFTCollator(processor, packing=True)(rows)
    assert packed["input_ids"].numel() > sum(lengths)  # rows have padded tails here
    assert packed_token_count(packed, processor.tokenizer.pad_token_id) == sum(lengths)
