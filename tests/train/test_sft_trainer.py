import json

import pytest
import torch

from mmreason.testing import build_tiny
from mmreason.train import RationaleSFTConfig, RationaleSFTTrainer, lora_config
from mmreason.train.collator import MultimodalSFTCollator
from mmreason.train.modules import part_of
from mmreason.train.sampler import ModalityLengthGroupedSampler

from .helpers import mixed_dataset, mixed_rows


def _args(tmp_path, **kwargs):
    base = dict(
        output_dir=str(tmp_path), use_cpu=True, bf16=False, report_to="none", logging_steps=1, save_strategy="no",
        per_device_train_batch_size=2, max_steps=3, max_length=None, seed=0, dataloader_num_workers=0,
    )  # fmt: skip
    return RationaleSFTConfig(**{**base, **kwargs})


@pytest.mark.parametrize(
    ("stage", "trained"),
    [
        ("pretrain", {"mm_mlp_adapter"}),
        ("si", {"mm_vision_tower", "mm_mlp_adapter", "mm_language_model"}),
        ("ov", {"mm_vision_tower", "mm_mlp_adapter", "mm_language_model"}),
    ],
)
def test_stage_freezing_and_learning_rates(tmp_path, stage, trained):
    model, processor = build_tiny(seed=1)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    args = _args(tmp_path, stage=stage, learning_rate=1e-3, mm_vision_tower_lr=5e-4 if stage != "pretrain" else None)
    trainer = RationaleSFTTrainer(model=model, args=args, train_dataset=mixed_dataset(), processing_class=processor)
    optimizer = trainer.create_optimizer()
    lr_of = {id(p): group["lr"] for group in optimizer.param_groups for p in group["params"]}
    for name, param in model.named_parameters():
        if param.requires_grad:
            assert lr_of[id(param)] == (5e-4 if part_of(name) == "mm_vision_tower" else 1e-3), name
        else:
            assert id(param) not in lr_of
    trainer.train()
    for name, param in model.named_parameters():
        changed = not torch.equal(before[name], param.detach())
        unused = name.startswith(("model.vision_tower.post_layernorm", "model.vision_tower.head"))
        assert changed == (part_of(name) in trained and not unused), name
    if stage == "pretrain":
        assert processor.chat_template.startswith("{%- for message in messages -%}")  # the plain template


def test_overlong_samples_are_dropped_and_reported_not_truncated(tmp_path, tiny):
    model, processor = tiny
    collator = MultimodalSFTCollator(processor)
    lengths = [len(collator([row])["input_ids"][0]) for row in mixed_rows(1)]
    budget = sorted(lengths)[len(lengths) // 2]
    args = _args(tmp_path, max_length=budget)
    trainer = RationaleSFTTrainer(model=model, args=args, train_dataset=mixed_dataset(1), processing_class=processor)
    over = sum(n > budget for n in lengths)
    assert trainer.dropped_samples == {"over_length": over} and len(trainer.train_dataset) == len(lengths) - over
    assert all(len(collator([row])["input_ids"][0]) <= budget for row in trainer.train_dataset)
    dropped = [json.loads(line) for line in (tmp_path / "dropped_samples.jsonl").read_text().splitlines()]
    assert len(dropped) == over and all(d["reasons"] == ["over_length"] for d in dropped)


def test_text_only_batch_still_reaches_the_vision_tower(tmp_path, tiny):
    """A batch without images runs a zero-weighted blank tile: every vision parameter gets a (zero) gradient."""
    model, processor = tiny
    trainer = RationaleSFTTrainer(
        model=model, args=_args(tmp_path), train_dataset=mixed_dataset(1), processing_class=processor
    )
    text_only = [row for row in mixed_rows(1) if not row["images"]]
    batch = MultimodalSFTCollator(processor)(text_only)
    assert "pixel_values" not in batch
    trainer.model.train()
    trainer.model.zero_grad()
    trainer.compute_loss(trainer.model, batch).backward()
    vision = [p for n, p in trainer.model.named_parameters() if part_of(n) == "mm_vision_tower" and p.requires_grad]
    assert vision and all(p.grad is not None and not p.grad.any() for p in vision)
    assert trainer.model.model.multi_modal_projector.linear_1.weight.grad is not None


def test_resume_reproduces_the_uninterrupted_losses(tmp_path):
    def run(output, resume=None, **kwargs):
        model, processor = build_tiny(seed=3)
        args = _args(output, max_steps=6, learning_rate=1e-3, group_by_modality_length=True, **kwargs)
        trainer = RationaleSFTTrainer(
            model=model, args=args, train_dataset=mixed_dataset(), processing_class=processor
        )
        trainer.train(resume_from_checkpoint=resume)
        return trainer, [log["loss"] for log in trainer.state.log_history if "loss" in log]

    trainer, full = run(tmp_path / "a", save_strategy="steps", save_steps=3)
    assert isinstance(trainer._get_train_sampler(), ModalityLengthGroupedSampler)
    _, resumed = run(tmp_path / "a", resume=str(tmp_path / "a" / "checkpoint-3"))
    assert len(full) == 6 and resumed == full  # steps 1-3 from checkpoint-3's state, 4-6 recomputed


def test_lora_trains_lm_adapters_and_the_projector(tmp_path, tiny):
    model, processor = build_tiny(seed=4)
    trainer = RationaleSFTTrainer(
        model=model, args=_args(tmp_path, learning_rate=1e-3, max_steps=2), train_dataset=mixed_dataset(1),
        processing_class=processor, peft_config=lora_config(r=4, alpha=8),
    )  # fmt: skip
    trainable = [n for n, p in trainer.model.named_parameters() if p.requires_grad]
    assert any("lora_A" in n and "language_model" in n for n in trainable)
    assert any("multi_modal_projector" in n for n in trainable)
    assert not any("vision_tower" in n or "lm_head" in n for n in trainable)
    trainer.train()
    trainer.save_model(str(tmp_path / "adapter"))
    assert (tmp_path / "adapter" / "adapter_model.safetensors").exists()
