"""Packed batches keep samples apart on every loss path: per-sample loss sums equal one-sample forwards."""

import itertools

import pytest
import torch

from mmreason.testing import build_tiny
from mmreason.train import MultimodalSFTCollator, RationaleSFTConfig, RationaleSFTTrainer
from mmreason.train.collator import IGNORE_INDEX

from .helpers import mixed_dataset, mixed_rows


def _segments(batch: dict) -> list[tuple[int, int, int]]:
    """(row, start, end) of every sample: packed rows restart `position_ids` at 0, padded rows hold one sample."""
    if "position_ids" not in batch:
        return [(r, 0, int(n)) for r, n in enumerate(batch["attention_mask"].sum(1))]
    out = []
    for r, positions in enumerate(batch["position_ids"]):
        starts = [*(positions == 0).nonzero().flatten().tolist(), len(positions)]
        out += [(r, a, b) for a, b in itertools.pairwise(starts)]
    return out


def _sums(batch: dict, token_logps: torch.Tensor) -> dict[tuple, float]:
    """Summed NLL per sample, keyed by its token ids. `token_logps[r, i]` is the log-prob of `labels[r, i + 1]`;
    a sample's first label is never counted (padded: nothing predicts it; packed: it is IGNORE_INDEX)."""
    out = {}
    for r, a, b in _segments(batch):
        labels = batch["labels"][r, a + 1 : b]
        if (labels != IGNORE_INDEX).any():  # skips the packed rows' padding tails
            out[tuple(batch["input_ids"][r, a:b].tolist())] = -token_logps[r, a : b - 1][labels != IGNORE_INDEX].sum()
    return out


def _plain_logps(model, batch: dict) -> torch.Tensor:
    """Token log-probs from a plain `model(**batch)` (the model's own logits, what any custom loss reads)."""
    logits = model(**{k: v for k, v in batch.items() if k != "labels"}).logits.float()
    targets = batch["labels"][:, 1:].clamp(min=0)
    return torch.log_softmax(logits[:, :-1], -1).gather(-1, targets[..., None])[..., 0]


def _reference(model, processor, rows) -> dict[tuple, torch.Tensor]:
    """Each row's loss sum from a forward of its own (nothing to leak from)."""
    reference = {}
    with torch.no_grad():
        for row in rows:
            single = MultimodalSFTCollator(processor)([row])
            reference.update(_sums(single, _plain_logps(model, single)))
    return reference


@pytest.fixture(scope="module")
def setting(tmp_path_factory):
    """A model as loaded (config `use_cache=True`, Qwen2's default), the same weights inside a trainer (TRL's
    fused head installed; TRL turns `use_cache` off), the rows and their one-sample reference sums."""
    plain, processor = build_tiny()
    assert (
        plain.config.text_config.use_cache and getattr(plain.config, "use_cache", None) is None
    )  # the default that made packed rows attend across samples
    model, _ = build_tiny()
    args = RationaleSFTConfig(
        output_dir=str(tmp_path_factory.mktemp("pack")), use_cpu=True, bf16=False, report_to="none", max_length=None
    )
    trainer = RationaleSFTTrainer(model=model, args=args, train_dataset=mixed_dataset(1), processing_class=processor)
    trainer.model.eval()
    all_rows = mixed_rows(1)
    rows = [all_rows[i] for i in (0, 3, 5, 6, -1)]  # image, multi-image, text-only rows and a long rationale
    return {"plain": plain, "trl_fused": trainer.model}, trainer, processor, rows, _reference(plain, processor, rows)


@pytest.mark.parametrize("path", ["plain", "trl_fused"])
@pytest.mark.parametrize("packed_length", [0, None])  # one row (flash varlen) / rows of the longest sample (SDPA)
def test_packed_per_sample_losses_equal_separate_forwards(setting, path, packed_length):
    """fp32 sums over each sample's supervised tokens. A plain `model(**batch)` builds a cache by default, and
    transformers then ignored the packed position ids and attended across samples (5.5536 vs 5.5543 mean loss)."""
    models, trainer, processor, rows, reference = setting
    model = models[path]
    packed = MultimodalSFTCollator(processor, packing=True, packed_length=packed_length)(rows)
    assert len(_sums(packed, torch.zeros(packed["labels"].shape))) > len(packed["input_ids"])  # rows are shared
    with torch.no_grad():
        if path == "plain":
            sums = _sums(packed, _plain_logps(model, packed))
        else:
            sums = _sums(packed, model(**packed, fused_lm_head=True).log_probs)  # what TRL's compute_loss reads
            mean = sum(reference.values()) / (packed["labels"] != IGNORE_INDEX).sum()
            assert abs(trainer.compute_loss(model, dict(packed)).item() - mean.item()) <= 1e-5
    assert sums.keys() == reference.keys()
    for key, value in sums.items():
        assert abs(value.item() - reference[key].item()) <= 1e-5 * max(1.0, abs(reference[key].item()))
