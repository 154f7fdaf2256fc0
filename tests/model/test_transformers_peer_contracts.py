"""The contracts transformers' own model tests read, checked without the sdist (see test_transformers_peer.py):
the backbone's forward signature is the stock one, and its training-only dummy vision pass still works through it
(keyword or positional arguments, `return_dict=False`), against stock LLaVA-OneVision on the same weights."""

import inspect

import pytest
import torch
from transformers import LlavaOnevisionForConditionalGeneration, LlavaOnevisionModel

from mmreason.model import MMReasonForConditionalGeneration, MMReasonModel

from .stock import stock_copy


@pytest.mark.parametrize("model_class", [MMReasonModel, MMReasonForConditionalGeneration])
def test_forward_signature_is_the_stock_one(model_class):
    stock_class = LlavaOnevisionModel if model_class is MMReasonModel else LlavaOnevisionForConditionalGeneration
    assert inspect.signature(model_class.forward) == inspect.signature(stock_class.forward)
    assert list(inspect.signature(model_class.forward).parameters)[1] == model_class.main_input_name == "input_ids"


@pytest.fixture
def backbones(tiny):
    model, processor = tiny
    ours = MMReasonForConditionalGeneration(model.config)
    ours.load_state_dict(model.state_dict())
    stock = stock_copy(ours)
    ids = processor.tokenizer("what is two plus two?", return_tensors="pt").input_ids
    return ours.model.train(), stock.model.train(), ids


def _vision_grads(backbone, output) -> int:
    backbone.zero_grad(set_to_none=True)
    output.sum().backward()
    return sum(p.grad is not None for p in backbone.multi_modal_projector.parameters())


@pytest.mark.parametrize("return_dict", [True, False])
def test_dummy_vision_forward_on_text_only_batches(backbones, return_dict):
    ours, stock, ids = backbones
    ours.dummy_vision_forward = True
    torch.manual_seed(0)
    expected = stock(input_ids=ids).last_hidden_state
    torch.manual_seed(0)
    out = ours(ids, return_dict=return_dict)  # input_ids positionally
    hidden = out.last_hidden_state if return_dict else out[0]
    torch.testing.assert_close(hidden, expected)
    assert _vision_grads(ours, hidden) == len(list(ours.multi_modal_projector.parameters()))
    ours.dummy_vision_forward = False
    assert _vision_grads(ours, ours(input_ids=ids).last_hidden_state) == 0  # the stock behaviour


def test_no_dummy_pass_when_images_are_given_positionally(backbones, tiny, images, monkeypatch):
    ours, stock, _ = backbones
    _, processor = tiny
    batch = processor(images=[images["small"]], text=["<image>\nwhat is shown?"], return_tensors="pt")
    ours.dummy_vision_forward = True
    monkeypatch.setattr(type(ours), "dummy_vision_output", lambda self: pytest.fail("dummy pass with an image"))
    torch.manual_seed(0)
    expected = stock(**batch).last_hidden_state
    torch.manual_seed(0)
    out = ours(batch["input_ids"], batch["pixel_values"], batch["image_sizes"], attention_mask=batch["attention_mask"])
    torch.testing.assert_close(out.last_hidden_state, expected)
