"""LoRA trains `image_newline` with the projector (the `mm_mlp_adapter` part), saves it in the adapter and a stock
`PeftModel.from_pretrained` restores it."""

import torch
from peft import PeftModel

from mmreason.testing import build_tiny
from mmreason.train import RationaleSFTConfig, RationaleSFTTrainer, lora_config
from mmreason.train.collator import MultimodalSFTCollator

from .helpers import mixed_dataset, mixed_rows


def test_lora_trains_and_saves_image_newline(tmp_path):
    model, processor = build_tiny(seed=4)
    before = model.model.image_newline.detach().clone()
    args = RationaleSFTConfig(
        output_dir=str(tmp_path), use_cpu=True, bf16=False, report_to="none", save_strategy="no",
        per_device_train_batch_size=2, max_steps=2, max_length=None, seed=0, learning_rate=1e-2,
        dataloader_num_workers=0,
    )  # fmt: skip
    trainer = RationaleSFTTrainer(
        model=model, args=args, train_dataset=mixed_dataset(1), processing_class=processor,
        peft_config=lora_config(r=4, alpha=8),
    )  # fmt: skip
    newline = trainer.model.get_parameter("base_model.model.model.image_newline")
    assert newline.requires_grad
    image_rows = [row for row in mixed_rows(1) if row["images"]][:2]
    trainer.model.train()
    trainer.model.zero_grad()
    trainer.compute_loss(trainer.model, MultimodalSFTCollator(processor)(image_rows)).backward()
    assert newline.grad is not None and newline.grad.abs().sum() > 0
    trainer.model.zero_grad()
    trainer.train()
    trained = newline.detach().clone()
    assert not torch.equal(trained, before)
    trainer.save_model(str(tmp_path / "adapter"))

    base, _ = build_tiny(seed=4)  # the same initial weights, as a user reloads the base checkpoint
    assert torch.equal(base.model.image_newline, before)
    reloaded = PeftModel.from_pretrained(base, str(tmp_path / "adapter"))
    assert torch.equal(reloaded.get_parameter("base_model.model.model.image_newline"), trained)
    projector = "base_model.model.model.multi_modal_projector.modules_to_save.default.linear_1.weight"
    assert torch.equal(reloaded.get_parameter(projector), trainer.model.get_parameter(projector))


def test_lora_without_the_projector_leaves_image_newline_frozen(tmp_path):
    model, processor = build_tiny(seed=4)
    args = RationaleSFTConfig(
        output_dir=str(tmp_path), use_cpu=True, bf16=False, report_to="none", max_length=None, max_steps=1,
    )  # fmt: skip
    trainer = RationaleSFTTrainer(
        model=model, args=args, train_dataset=mixed_dataset(1), processing_class=processor,
        peft_config=lora_config(r=4, alpha=8, train_projector=False),
    )  # fmt: skip
    assert not trainer.model.get_parameter("base_model.model.model.image_newline").requires_grad
