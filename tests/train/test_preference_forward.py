"""`pair_logps(mode="plain")` against stock TRL 1.16 (DPOTrainer's loss) and a full-logits hand computation."""

import copy

import pytest
import torch
from datasets import Dataset
from trl import DPOConfig, DPOTrainer
from trl.trainer.dpo_trainer import DataCollatorForVisionPreference

from mmreason.testing import build_tiny
from mmreason.train.preference_forward import pair_logps

from .preference_rows import mixed_pairs


@pytest.fixture(scope="module")
def tiny():
    return build_tiny(seed=1)


def _full_logits_logps(model, batch):
    """Hand computation: the model's ordinary forward (full logits), log-softmax, next-token gather, sums."""
    kwargs = {k: v for k, v in batch.items() if k != "completion_mask"}
    logits = model(**kwargs).logits[:, :-1]
    logps = torch.log_softmax(logits.double(), -1).gather(-1, batch["input_ids"][:, 1:, None])[..., 0]
    mask = batch["completion_mask"][:, 1:].bool()
    sums = (logps * mask).sum(1)
    pairs = sums.size(0) // 2
    return sums[:pairs], sums[pairs:], mask[:pairs].sum(1), mask[pairs:].sum(1), -logps[:pairs][mask[:pairs]].mean()


def test_plain_matches_full_logits(tiny):
    model, processor = tiny
    batch = DataCollatorForVisionPreference(processor)(copy.deepcopy(mixed_pairs()))
    with torch.no_grad():
        reference = _full_logits_logps(copy.deepcopy(model), batch)
        got = pair_logps(model, batch, "plain")
    torch.testing.assert_close(got.chosen_logps.double(), reference[0], atol=1e-5, rtol=1e-6)
    torch.testing.assert_close(got.rejected_logps.double(), reference[1], atol=1e-5, rtol=1e-6)
    assert got.chosen_tokens.tolist() == reference[2].tolist()
    assert got.rejected_tokens.tolist() == reference[3].tolist()
    torch.testing.assert_close(got.chosen_nll.double(), reference[4], atol=1e-6, rtol=0)


def test_plain_mpo_loss_matches_dpo_trainer(tiny, tmp_path):
    """The sigmoid + bco_pair + sft loss computed from PairLogps equals stock DPOTrainer's on the same batch."""
    model, processor = tiny
    policy, reference = copy.deepcopy(model), copy.deepcopy(model)
    with torch.no_grad():  # move the policy away from the reference so the DPO terms are not all ln 2
        for parameter in policy.parameters():
            parameter.add_(0.02 * torch.randn_like(parameter))
    args = DPOConfig(
        output_dir=str(tmp_path), loss_type=["sigmoid", "bco_pair", "sft"], loss_weights=[0.8, 0.2, 1.0],
        beta=0.1, max_length=None, use_cpu=True, bf16=False, report_to="none",
    )  # fmt: skip
    trainer = DPOTrainer(
        model=policy, ref_model=reference, args=args, processing_class=processor,
        train_dataset=Dataset.from_list(mixed_pairs()),
    )  # fmt: skip
    batch = DataCollatorForVisionPreference(processor)(copy.deepcopy(mixed_pairs()))
    expected = trainer.compute_loss(trainer.model, dict(batch))

    got = pair_logps(trainer.model, batch, "plain")
    with torch.no_grad():
        ref = pair_logps(trainer.ref_model, batch, "plain")
    chosen_ratio, rejected_ratio = got.chosen_logps - ref.chosen_logps, got.rejected_logps - ref.rejected_logps
    sigmoid = -torch.nn.functional.logsigmoid(0.1 * (chosen_ratio - rejected_ratio)).mean()
    bco = (
        -torch.nn.functional.logsigmoid(0.1 * chosen_ratio) - torch.nn.functional.logsigmoid(-0.1 * rejected_ratio)
    ).mean()
    loss = 0.8 * sigmoid + 0.2 * bco + got.chosen_nll
    torch.testing.assert_close(loss, expected, atol=1e-5, rtol=0)
    assert abs(sigmoid.item() - torch.log(torch.tensor(2.0)).item()) > 1e-4  # the DPO terms are exercised


def test_unknown_mode_raises(tiny):
    with pytest.raises(ValueError, match="Unknown preference forward mode"):
        pair_logps(tiny[0], {}, "fast")
