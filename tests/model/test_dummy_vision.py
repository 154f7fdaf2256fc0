"""The dummy vision pass (ZeRO-3 text-only batches) runs only where gradients flow: in train mode with grad
enabled, not in a no-grad pass (GRPO's generation and reference passes keep the model in train mode)."""

import torch

from mmreason.model import MMReasonModel
from mmreason.testing import build_tiny


def test_dummy_vision_pass_only_with_gradients(monkeypatch):
    model, processor = build_tiny(seed=0)
    backbone = next(m for m in model.modules() if isinstance(m, MMReasonModel))
    backbone.dummy_vision_forward = True
    calls = []
    original = type(backbone).dummy_vision_output
    monkeypatch.setattr(type(backbone), "dummy_vision_output", lambda self: calls.append(1) or original(self))
    ids = processor.tokenizer("a text-only batch", return_tensors="pt")["input_ids"]
    model.train()
    with torch.no_grad():
        model(input_ids=ids)
    assert calls == []
    model(input_ids=ids).logits.sum().backward()
    assert calls == [1]
    assert all(p.grad is not None for p in backbone.multi_modal_projector.parameters())  # it reached the projector
