"""`MPOTrainer` end to end on tiny models: first-step loss against stock TRL `DPOTrainer` (mmreason and stock
transformers LLaVA-OneVision), δ in training against the logged rewards, and the frozen reference."""

import copy
import json

import datasets
import pytest
import torch
from trl import DPOConfig, DPOTrainer

from mmreason.testing import build_tiny
from mmreason.train.mpo_config import MPOConfig
from mmreason.train.mpo_trainer import MPOTrainer

from ..model.stock import stock_copy
from .mpo_rows import preference_dataset, preference_rows

COMMON = dict(
    use_cpu=True, per_device_train_batch_size=2, logging_steps=1, report_to="none", save_strategy="no",
    dataloader_num_workers=0, seed=3, activation_checkpointing=False,
)  # fmt: skip
MPO = dict(loss_type=["sigmoid", "bco_pair", "sft"], loss_weights=[0.8, 0.2, 1.0], beta=0.1)


def perturbed(model, scale=0.02, seed=5):
    """A copy moved away from `model`, so that the policy is not the reference and the DPO terms are not ln 2."""
    policy = copy.deepcopy(model)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in policy.parameters():
            parameter.add_(scale * torch.randn(parameter.shape, generator=generator))
    return policy


def stock_first_step(policy, reference, processor, tmp_path, **overrides):
    args = DPOConfig(output_dir=str(tmp_path / "stock"), max_length=None, bf16=False, max_steps=1, **COMMON, **MPO,
                     **overrides)  # fmt: skip
    trainer = DPOTrainer(
        model=policy, ref_model=reference, args=args, train_dataset=preference_dataset(), processing_class=processor
    )
    trainer.train()
    return trainer.state.log_history[0]


def mpo_trainer(model, processor, tmp_path, ref_model=None, **overrides):
    args = MPOConfig(output_dir=str(tmp_path / "mpo"), **{**COMMON, **overrides})
    return MPOTrainer(
        model=model, ref_model=ref_model, args=args, train_dataset=preference_dataset(), processing_class=processor
    )


@pytest.mark.parametrize("family", ["mmreason", "llava_onevision"])
def test_first_step_loss_equals_stock_dpo_trainer(family, tmp_path):
    """Policy = reference at step 1 (so δ = 0): the MPO loss is stock DPOTrainer's sigmoid + bco_pair + sft."""
    model, processor = build_tiny(seed=2)
    if family == "llava_onevision":
        model = stock_copy(model).train()
    expected = stock_first_step(copy.deepcopy(model), copy.deepcopy(model), processor, tmp_path)
    trainer = mpo_trainer(copy.deepcopy(model), processor, tmp_path, max_steps=1)
    assert type(trainer.model).__name__ == type(model).__name__
    trainer.train()
    got = trainer.state.log_history[0]
    assert got["loss"] == pytest.approx(expected["loss"], abs=1e-5)
    assert got["rewards/shift"] == 0.0
    for key in ("logps/chosen", "logps/rejected"):
        assert got[key] == pytest.approx(expected[key], abs=1e-4)


def test_first_step_with_a_moved_policy_equals_stock_without_the_shift(tmp_path):
    model, processor = build_tiny(seed=2)
    policy = perturbed(model)
    expected = stock_first_step(copy.deepcopy(policy), copy.deepcopy(model), processor, tmp_path)
    trainer = mpo_trainer(policy, processor, tmp_path, ref_model=copy.deepcopy(model), max_steps=1, reward_shift=False)
    trainer.train()
    got = trainer.state.log_history[0]
    assert abs(got["loss/sigmoid"] - 0.6931) > 1e-3  # the DPO terms are exercised
    for key in ("loss", "rewards/chosen", "rewards/rejected", "rewards/margins"):
        assert got[key] == pytest.approx(expected[key], abs=1e-5), key
    for key in ("logps/chosen", "logps/rejected"):  # sums of ~100 fp32 log-probs: one ulp at 117 is 7.6e-6
        assert got[key] == pytest.approx(expected[key], rel=1e-6, abs=1e-5), key


def test_shift_in_training_is_the_running_mean_of_the_logged_batch_rewards(tmp_path):
    """3 steps of 2 pairs: δ at step k = mean over steps j ≤ k of mean(cat(r_c, r_r)) = (chosen + rejected) / 2."""
    model, processor = build_tiny(seed=4)
    initial = copy.deepcopy(model)
    trainer = mpo_trainer(
        model, processor, tmp_path, max_steps=3, learning_rate=2e-3, warmup_steps=0, lr_scheduler_type="constant"
    )
    trainer.train()
    logs = [entry for entry in trainer.state.log_history if "rewards/shift" in entry]
    means, shifts = [], []
    for entry in logs:
        means.append((entry["rewards/chosen"] + entry["rewards/rejected"]) / 2)
        shifts.append(sum(means) / len(means))
        assert entry["rewards/shift"] == pytest.approx(shifts[-1], abs=1e-6)
    assert len(logs) == 3 and abs(shifts[-1]) > 1e-3  # training moved the rewards, so δ was exercised
    assert trainer.reward_shift.count == 3
    # the reference stayed the initial model (frozen copy), while the policy moved
    for (name, ref), (_, first) in zip(trainer.ref_model.named_parameters(), initial.named_parameters()):
        assert torch.equal(ref, first) and not ref.requires_grad, name
    assert not torch.equal(trainer.model.lm_head.weight, initial.lm_head.weight)


def test_hygiene_drops_pairs_whose_longer_side_is_over_max_length_and_identical_pairs(tmp_path):
    """Lengths from TRL's own collator (one row each): a pair whose *rejected* side alone is over `max_length` is
    dropped, never truncated; so is a pair with the same text on both sides."""
    from trl.trainer.dpo_trainer import DataCollatorForVisionPreference

    from .mpo_rows import preference_features

    model, processor = build_tiny(seed=2)
    rows = preference_rows(8)
    for row in rows[:4]:
        row["rejected"][0]["content"][0]["text"] += " and so on" * (3 + rows.index(row) * 4)
    rows[5]["rejected"] = copy.deepcopy(rows[5]["chosen"])
    collate = DataCollatorForVisionPreference(processor)
    lengths = [collate([copy.deepcopy(row)])["attention_mask"].sum(1).tolist() for row in rows]  # [chosen, rejected]
    budget = max(chosen for chosen, _ in lengths)
    over = {row["id"] for row, (_, rejected) in zip(rows, lengths) if rejected > budget}
    assert 0 < len(over) < 4  # some, not all, of the long-rejected pairs
    dataset = datasets.Dataset.from_list(rows, features=preference_features())
    args = MPOConfig(output_dir=str(tmp_path), max_steps=1, max_length=budget, **COMMON)
    trainer = MPOTrainer(model=model, args=args, train_dataset=dataset, processing_class=processor)
    assert dict(trainer.dropped_samples) == {"over_length": len(over), "identical_completions": 1}
    kept = set(trainer.train_dataset["id"]) if "id" in trainer.train_dataset.column_names else None
    dropped = [json.loads(line) for line in (tmp_path / "dropped_samples.jsonl").read_text().splitlines()]
    assert {d["id"] for d in dropped} == over | {"pair-5"}
    assert kept is None or kept == {row["id"] for row in rows} - over - {"pair-5"}


def test_precomputed_reference_columns_replace_the_reference_forward(tmp_path):
    """Rows carrying `precompute_ref_logps`' columns (of the true reference) train as with that reference, even
    when the trainer holds another model as `ref_model`: the columns survive TRL's column filter and are used."""
    from mmreason.train.preference_forward import precompute_ref_logps

    model, processor = build_tiny(seed=2)
    policy = perturbed(model)
    expected = mpo_trainer(copy.deepcopy(policy), processor, tmp_path / "a", ref_model=copy.deepcopy(model),
                           max_steps=1)  # fmt: skip
    expected.train()
    columns = precompute_ref_logps(copy.deepcopy(model), preference_dataset(), processor, mode="plain", batch_size=4)
    other, _ = build_tiny(seed=9)
    args = MPOConfig(output_dir=str(tmp_path / "b"), max_steps=1, **COMMON)
    trainer = MPOTrainer(
        model=copy.deepcopy(policy), ref_model=other, args=args, train_dataset=columns, processing_class=processor
    )
    trainer.train()
    got, want = trainer.state.log_history[0], expected.state.log_history[0]
    for key in ("loss", "rewards/chosen", "rewards/rejected", "rewards/shift"):
        assert got[key] == pytest.approx(want[key], abs=1e-5), key


def test_fast_forward_modes_give_the_plain_first_step(tmp_path):
    """`forward_mode` plugs the fast collators and forwards in: the same first-step loss and rewards as `plain`."""
    model, processor = build_tiny(seed=2)
    policy = perturbed(model)
    logs = {}
    for mode in ("plain", "vision_once", "shared_prompt", "packed"):
        trainer = mpo_trainer(copy.deepcopy(policy), processor, tmp_path / mode, ref_model=copy.deepcopy(model),
                              max_steps=1, forward_mode=mode)  # fmt: skip
        trainer.train()
        logs[mode] = trainer.state.log_history[0]
    for mode in ("vision_once", "shared_prompt", "packed"):
        for key in ("loss", "rewards/chosen", "rewards/rejected", "rewards/shift", "loss/sft"):
            assert logs[mode][key] == pytest.approx(logs["plain"][key], abs=1e-5), (mode, key)


def test_the_shared_multimodal_setup_works_in_mpo(tmp_path):
    """Item 1 for MPO: tunable parts, per-part learning rates and the mixin's optimizer come from
    `MultimodalTrainerMixin` (not re-implemented); evaluation reports the loss and leaves δ alone."""
    from mmreason.train import MultimodalTrainerMixin
    from mmreason.train.modules import part_of

    for name in ("prepare_multimodal", "check_samples", "create_optimizer", "finish_setup", "_get_train_sampler"):
        assert getattr(MPOTrainer, name) is getattr(MultimodalTrainerMixin, name), name
    model, processor = build_tiny(seed=4)
    initial = copy.deepcopy(model)
    trainer = mpo_trainer(
        model, processor, tmp_path, max_steps=2, learning_rate=1e-3, warmup_steps=0, lr_scheduler_type="constant",
        mm_tunable_parts="mm_mlp_adapter,mm_language_model", mm_projector_lr=5e-3,
    )  # fmt: skip
    trainer.eval_dataset = preference_dataset(4)
    trainer.train()
    lrs = {part_of(name): group["lr"] for group in trainer.optimizer.param_groups for name, param in
           trainer.model.named_parameters() if any(param is p for p in group["params"])}  # fmt: skip
    assert lrs == {"mm_mlp_adapter": 5e-3, "mm_language_model": 1e-3}
    changed = {part_of(n) for n, p in trainer.model.named_parameters() if not torch.equal(p, initial.get_parameter(n))}
    assert changed == {"mm_mlp_adapter", "mm_language_model"}  # the vision tower stayed frozen
    before = copy.deepcopy(trainer.reward_shift)
    metrics = trainer.evaluate()
    assert "eval_loss" in metrics and "eval_rewards/shift" in metrics and trainer.reward_shift == before


def test_reference_given_as_a_path_is_loaded_frozen_like_the_policy(tmp_path):
    model, processor = build_tiny(seed=2)
    model.save_pretrained(tmp_path / "ref")
    policy = perturbed(model)
    trainer = mpo_trainer(policy, processor, tmp_path, ref_model=str(tmp_path / "ref"), max_steps=1,
                          vision_aspect_ratio="anyres_max_9")  # fmt: skip
    reference = trainer.ref_model
    assert reference is not trainer.model and not any(p.requires_grad for p in reference.parameters())
    assert reference.config.vision_aspect_ratio == "anyres_max_9" == trainer.model.config.vision_aspect_ratio
    for name, parameter in reference.named_parameters():
        assert torch.equal(parameter, model.get_parameter(name)), name
