"""The fast preference forwards (vision_once, shared_prompt, packed) give the plain path's loss and gradients.

The reference is `mode="plain"` on stock TRL's `DataCollatorForVisionPreference` batch, which
test_preference_forward.py checks against stock `DPOTrainer`; rows have 0, 1 or 2 anyres images and answers of
different lengths. Loss = InternVL's MPO mix (0.8 sigmoid + 0.2 bco_pair + 1.0 sft) with fixed reference log-probs.
"""

import copy

import pytest
import torch
import torch.nn.functional as F
from trl.trainer.dpo_trainer import DataCollatorForVisionPreference

from mmreason.testing import build_tiny
from mmreason.train.preference_collators import collator_for
from mmreason.train.preference_forward import pair_logps

from ..model.stock import stock_copy, stock_processor
from .preference_rows import mixed_pairs

FAST_MODES = ["vision_once", "shared_prompt", "packed"]


@pytest.fixture(scope="module")
def tiny():
    model, processor = build_tiny(seed=2)
    return model.train(), processor


def mpo_loss(logps, ref_chosen, ref_rejected, beta=0.1):
    chosen_ratio, rejected_ratio = logps.chosen_logps - ref_chosen, logps.rejected_logps - ref_rejected
    sigmoid = -F.logsigmoid(beta * (chosen_ratio - rejected_ratio)).mean()
    bco = (-F.logsigmoid(beta * chosen_ratio) - F.logsigmoid(-beta * rejected_ratio)).mean()
    return 0.8 * sigmoid + 0.2 * bco + logps.chosen_nll


def loss_and_grads(model, processor, rows, mode, max_length=None):
    model = copy.deepcopy(model)
    batch = collator_for(mode, processor, max_length=max_length)(copy.deepcopy(rows))
    logps = pair_logps(model, batch, mode)
    generator = torch.Generator().manual_seed(0)
    ref_chosen = logps.chosen_logps.detach() + torch.randn(len(rows), generator=generator)
    ref_rejected = logps.rejected_logps.detach() + torch.randn(len(rows), generator=generator)
    loss = mpo_loss(logps, ref_chosen, ref_rejected)
    loss.backward()
    grads = {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}
    return logps, loss, grads


def assert_same(got, expected):
    (logps, loss, grads), (ref_logps, ref_loss, ref_grads) = got, expected
    torch.testing.assert_close(loss, ref_loss, atol=1e-5, rtol=0)
    torch.testing.assert_close(logps.chosen_logps, ref_logps.chosen_logps, atol=1e-5, rtol=1e-6)
    torch.testing.assert_close(logps.rejected_logps, ref_logps.rejected_logps, atol=1e-5, rtol=1e-6)
    assert logps.chosen_tokens.tolist() == ref_logps.chosen_tokens.tolist()
    assert logps.rejected_tokens.tolist() == ref_logps.rejected_tokens.tolist()
    assert grads.keys() == ref_grads.keys()
    for name, grad in ref_grads.items():
        torch.testing.assert_close(grads[name], grad, atol=1e-5, rtol=0, msg=lambda m, n=name: f"{n}: {m}")


@pytest.fixture(scope="module")
def variants(tiny):
    """The same weights as mmreason with sdpa, mmreason with eager attention and stock LLaVA-OneVision."""
    model, processor = tiny
    eager = copy.deepcopy(model)
    eager.set_attn_implementation("eager")
    return {
        "sdpa": tiny,
        "eager": (eager, processor),
        "stock": (stock_copy(model).train(), stock_processor(processor)),
    }


@pytest.fixture(scope="module")
def plain(variants):
    """The plain path's results per (variant, max_length), computed once."""
    cache = {}

    def get(variant="sdpa", max_length=None):
        if (variant, max_length) not in cache:
            cache[variant, max_length] = loss_and_grads(*variants[variant], mixed_pairs(), "plain", max_length)
        return cache[variant, max_length]

    return get


@pytest.mark.parametrize("mode", FAST_MODES)
def test_fast_mode_matches_plain_loss_and_gradients(variants, plain, mode):
    got = loss_and_grads(*variants["sdpa"], mixed_pairs(), mode)
    assert_same(got, plain())
    assert any("vision_tower" in name for name in got[2])  # the image path is differentiated


@pytest.mark.parametrize("mode", ["shared_prompt", "packed"])
def test_fast_mode_matches_plain_with_eager_attention(variants, plain, mode):
    assert_same(loss_and_grads(*variants["eager"], mixed_pairs(), mode), plain("eager"))


@pytest.mark.parametrize("mode", FAST_MODES)
def test_fast_mode_matches_plain_on_stock_llava_onevision(variants, plain, mode):
    assert_same(loss_and_grads(*variants["stock"], mixed_pairs(), mode), plain("stock"))


@pytest.mark.parametrize("mode", FAST_MODES)
def test_fast_mode_truncates_as_trl(variants, plain, mode):
    """max_length cuts each prompt + completion as TRL's collator does (keep the start)."""
    processor = variants["sdpa"][1]
    rows, max_length = mixed_pairs(), 150  # longer than every prompt here, shorter than some prompt + completion
    full = DataCollatorForVisionPreference(processor)(copy.deepcopy(rows))["completion_mask"].sum()
    cut = DataCollatorForVisionPreference(processor, max_length=max_length)(copy.deepcopy(rows))["completion_mask"]
    assert 0 < cut.sum() < full
    assert_same(loss_and_grads(*variants["sdpa"], rows, mode, max_length), plain("sdpa", max_length))


def test_vision_once_rows_are_trl_rows_with_each_image_once(tiny):
    _, processor = tiny
    trl_batch = DataCollatorForVisionPreference(processor)(copy.deepcopy(mixed_pairs()))
    ours = collator_for("vision_once", processor)(copy.deepcopy(mixed_pairs()))
    for key in ("attention_mask", "completion_mask"):
        assert torch.equal(ours[key], trl_batch[key]), key
    mask = trl_batch["attention_mask"].bool()  # padding ids differ (TRL pads prompts and completions differently)
    assert torch.equal(ours["input_ids"][mask], trl_batch["input_ids"][mask])
    images = len(trl_batch["image_sizes"]) // 2
    torch.testing.assert_close(ours["pixel_values"], trl_batch["pixel_values"][:images], rtol=0, atol=0)
    assert torch.equal(ours["image_sizes"], trl_batch["image_sizes"][:images])


@pytest.mark.parametrize("mode", FAST_MODES)
def test_each_image_tile_is_encoded_once(tiny, mode):
    """Also in training with mmreason's blank-tile vision forward on (it is for batches without media)."""
    model, processor = tiny
    model = copy.deepcopy(model).train()
    model.model.dummy_vision_forward = True
    tiles = []
    model.model.vision_tower.register_forward_hook(lambda module, args, out: tiles.append(args[0].shape[0]))
    with torch.no_grad():
        pair_logps(model, collator_for("plain", processor)(copy.deepcopy(mixed_pairs())), "plain")
        plain_tiles, tiles[:] = sum(tiles), []
        pair_logps(model, collator_for(mode, processor)(copy.deepcopy(mixed_pairs())), mode)
    assert 2 * sum(tiles) == plain_tiles > 0
    assert model.model.dummy_vision_forward


def test_shared_prompt_runs_each_prompt_once(tiny):
    _, processor = tiny
    plain_batch = collator_for("plain", processor)(copy.deepcopy(mixed_pairs()))
    shared = collator_for("shared_prompt", processor)(copy.deepcopy(mixed_pairs()))
    prompt_tokens = int((plain_batch["attention_mask"] - plain_batch["completion_mask"]).sum()) // 2
    assert int(shared["attention_mask"].sum()) == int(plain_batch["attention_mask"].sum()) - prompt_tokens + 4


def test_shared_prompt_refuses_attention_without_4d_masks(tiny):
    model, processor = tiny
    model = copy.deepcopy(model)
    model.config.get_text_config()._attn_implementation = "flash_attention_2"
    with pytest.raises(ValueError, match="custom 4D mask"):
        pair_logps(model, collator_for("shared_prompt", processor)(copy.deepcopy(mixed_pairs())), "shared_prompt")


def test_branch_mask_by_hand():
    """prompt p0 p1 | chosen branch c0 c1 | rejected branch r0 r1 | pad: the visibility written out by hand."""
    from mmreason.train.preference_forward import branch_attention_mask

    expected = torch.tensor([
        [1, 0, 0, 0, 0, 0, 0],  # p0
        [1, 1, 0, 0, 0, 0, 0],  # p1
        [1, 1, 1, 0, 0, 0, 0],  # c0
        [1, 1, 1, 1, 0, 0, 0],  # c1
        [1, 1, 0, 0, 1, 0, 0],  # r0 sees the prompt, not the chosen branch
        [1, 1, 0, 0, 1, 1, 0],  # r1
        [0, 0, 0, 0, 0, 0, 1],  # padding sees itself only
    ], dtype=torch.bool)  # fmt: skip
    branch_ids = torch.tensor([[0, 0, 1, 1, 2, 2, -1]])
    assert torch.equal(branch_attention_mask(branch_ids, torch.bool)[0, 0], expected)
    additive = branch_attention_mask(branch_ids, torch.float32)[0, 0]
    assert torch.equal(additive == 0, expected)
    assert (additive[~expected] == torch.finfo(torch.float32).min).all()
