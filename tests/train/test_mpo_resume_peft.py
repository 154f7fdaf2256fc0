"""`MPOTrainer` checkpoints: resuming from checkpoint-N reproduces the uninterrupted run's losses and δ; under PEFT
the reference is the adapter-disabled initial model (no second copy), `image_newline` included."""

import copy
import json

import pytest
import torch

from mmreason.testing import build_tiny
from mmreason.train import lora_config
from mmreason.train.mpo_config import MPOConfig
from mmreason.train.mpo_trainer import SHIFT_FILE, MPOTrainer

from .mpo_rows import preference_dataset, preference_rows

COMMON = dict(
    use_cpu=True, per_device_train_batch_size=2, logging_steps=1, report_to="none", dataloader_num_workers=0,
    seed=3, activation_checkpointing=False, learning_rate=2e-3, warmup_steps=0, lr_scheduler_type="constant",
)  # fmt: skip
KEYS = ("loss", "rewards/shift", "rewards/chosen", "rewards/rejected", "loss/bco_pair")


def run(out, resume=None):
    model, processor = build_tiny(seed=4)
    args = MPOConfig(output_dir=str(out), max_steps=3, save_strategy="steps", save_steps=2, **COMMON)
    trainer = MPOTrainer(model=model, args=args, train_dataset=preference_dataset(), processing_class=processor)
    trainer.train(resume_from_checkpoint=resume)
    return {entry["step"]: entry for entry in trainer.state.log_history if "loss" in entry}


def test_resume_from_checkpoint_reproduces_the_uninterrupted_losses_and_shift(tmp_path):
    full = run(tmp_path / "full")
    saved = json.loads((tmp_path / "full" / "checkpoint-2" / SHIFT_FILE).read_text())
    assert saved["count"] == 2 and saved["mean"] == pytest.approx(full[2]["rewards/shift"], abs=1e-7)
    resumed = run(tmp_path / "resumed", resume=str(tmp_path / "full" / "checkpoint-2"))
    assert sorted(resumed) == [1, 2, 3]  # steps 1-2 come with the checkpoint's trainer_state.json
    for key in KEYS:
        assert resumed[3][key] == pytest.approx(full[3][key], rel=0, abs=1e-7), key
    # a shift restarted at 0 (InternVL's resume) would read this step's batch mean alone at step 3
    restarted = (full[3]["rewards/chosen"] + full[3]["rewards/rejected"]) / 2
    assert abs(resumed[3]["rewards/shift"] - restarted) > 1e-4


def _hand_logps(model, batch):
    """Reference log-probs by hand: the ordinary forward (full logits), log-softmax, next-token gather, sums."""
    kwargs = {key: value for key, value in batch.items() if key != "completion_mask"}
    with torch.no_grad():
        logits = model(**kwargs).logits[:, :-1]
    logps = torch.log_softmax(logits.double(), -1).gather(-1, batch["input_ids"][:, 1:, None])[..., 0]
    sums = (logps * batch["completion_mask"][:, 1:]).sum(1)
    return sums.chunk(2)


def test_peft_reference_is_the_adapter_disabled_initial_model(tmp_path):
    model, processor = build_tiny(seed=4)
    initial = copy.deepcopy(model).eval()
    args = MPOConfig(output_dir=str(tmp_path), max_steps=2, save_strategy="no", **{**COMMON, "learning_rate": 5e-2})
    trainer = MPOTrainer(
        model=model, args=args, train_dataset=preference_dataset(), processing_class=processor,
        peft_config=lora_config(r=4, alpha=8, dropout=0.0),
    )  # fmt: skip
    assert trainer.ref_model is None  # no second copy
    newline = trainer.model.get_parameter(trainer._image_newline)
    trainer.train()
    assert not torch.equal(newline.detach(), initial.model.image_newline)  # trained outside the adapter
    trainer.model.eval()
    batch = trainer.data_collator(copy.deepcopy(preference_rows(4)))
    ref_chosen, ref_rejected = trainer.reference_logps(batch)
    hand_chosen, hand_rejected = _hand_logps(initial, batch)
    torch.testing.assert_close(ref_chosen.double(), hand_chosen, atol=1e-4, rtol=1e-6)
    torch.testing.assert_close(ref_rejected.double(), hand_rejected, atol=1e-4, rtol=1e-6)
    policy_chosen, _ = _hand_logps(trainer.model, batch)
    assert (policy_chosen - hand_chosen).abs().max() > 1e-2  # the policy moved: the check is not vacuous
    assert torch.equal(trainer.model.get_parameter(trainer._image_newline), newline)  # swapped back after use
