"""Precomputed reference log-probs for vision preference rows (TRL 1.16 refuses `precompute_ref_log_probs` there)."""

import copy
import random

import pytest
import torch
from datasets import Dataset

from mmreason.testing import build_tiny
from mmreason.train.preference_collators import collator_for
from mmreason.train.preference_forward import pair_logps, precompute_ref_logps

from .preference_rows import mixed_pairs


@pytest.fixture(scope="module")
def reference():
    return build_tiny(seed=4)


@pytest.mark.parametrize("mode", ["vision_once", "packed"])
def test_precomputed_columns_equal_the_live_reference_forward(reference, mode):
    model, processor = reference
    dataset = Dataset.from_list(mixed_pairs())
    with torch.no_grad():  # the live reference, as TRL's DPOTrainer runs it: plain rows, whole batch
        live = pair_logps(model, collator_for("plain", processor)(copy.deepcopy(mixed_pairs())), "plain")
    stored = precompute_ref_logps(model, dataset, processor, mode=mode, batch_size=3)
    assert stored.column_names == [*dataset.column_names, "ref_chosen_logps", "ref_rejected_logps"]
    torch.testing.assert_close(torch.tensor(stored["ref_chosen_logps"]), live.chosen_logps, atol=1e-5, rtol=1e-6)
    torch.testing.assert_close(torch.tensor(stored["ref_rejected_logps"]), live.rejected_logps, atol=1e-5, rtol=1e-6)
    assert not model.training  # left in the mode it came in (eval, from build_tiny)


@pytest.mark.parametrize("mode", ["plain", "vision_once", "shared_prompt", "packed"])
def test_every_collator_carries_the_reference_columns(reference, mode):
    _, processor = reference
    rows = [dict(row, ref_chosen_logps=-1.5 * i, ref_rejected_logps=-2.0 - i) for i, row in enumerate(mixed_pairs())]
    random.Random(0).shuffle(rows)
    batch = collator_for(mode, processor)(copy.deepcopy(rows))
    assert batch["ref_chosen_logps"].tolist() == [row["ref_chosen_logps"] for row in rows]
    assert batch["ref_rejected_logps"].tolist() == [row["ref_rejected_logps"] for row in rows]
