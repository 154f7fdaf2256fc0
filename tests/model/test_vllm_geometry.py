"""What vLLM can serve: `convert --to llava_onevision` warns where stock vLLM's LLaVA-OneVision would use another
image geometry (it hard-codes `anyres_max_9` and rounds the unpad crop), and `build_tiny(servable=True)` meets vLLM's
CPU attention (head_dim >= 32).
"""

import warnings

import pytest
import torch

from mmreason.model.convert import convert_checkpoint
from mmreason.testing import build_tiny, make_image


def _save(tmp_path, **kwargs):
    model, processor = build_tiny(**kwargs)
    model.save_pretrained(tmp_path / "src")
    processor.save_pretrained(tmp_path / "src")
    return tmp_path / "src"


def test_llava_onevision_export_warns_for_a_geometry_vllm_does_not_implement(tmp_path):
    src = _save(tmp_path, vision_aspect_ratio="anyres_max_4")  # MAmmoTH-VL's setting
    with pytest.warns(UserWarning, match=r"vLLM.*anyres_max_9"):
        convert_checkpoint(src, tmp_path / "ov", to="llava_onevision")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        convert_checkpoint(src, tmp_path / "mm", to="mmreason")  # not a vLLM format: nothing to say


def test_truncating_unpad_export_warns_that_vllm_rounds(tmp_path):
    src = _save(tmp_path, vision_aspect_ratio="anyres_max_9")  # LLaVA-NeXT's rule, the default
    with pytest.warns(UserWarning, match=r"image_unpad_rule='truncate'.*vLLM rounds") as caught:
        convert_checkpoint(src, tmp_path / "ov", to="llava_onevision")
    assert "anyres_max_9' (large" not in str(caught[0].message)


def test_export_of_stock_vllm_geometry_is_silent(tmp_path):
    src = _save(tmp_path, vision_aspect_ratio="anyres_max_9", image_unpad_rule="round")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        convert_checkpoint(src, tmp_path / "ov", to="llava_onevision")


def test_servable_tiny_model_has_head_dim_32_and_generates():
    model, processor = build_tiny(servable=True, vision_aspect_ratio="anyres_max_9")
    vision, text = model.config.vision_config, model.config.text_config
    assert vision.hidden_size // vision.num_attention_heads == 32  # 32 / 1
    assert text.hidden_size // text.num_attention_heads == 32  # 64 / 2, one KV head
    default = build_tiny()[0].config
    assert default.text_config.hidden_size // default.text_config.num_attention_heads == 16
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "hi"}]}]
    prompt = processor.apply_chat_template(messages, add_generation_prompt=True)
    inputs = processor(images=[make_image(50, 40)], text=prompt, return_tensors="pt")
    with torch.no_grad():
        out = model.generate(**inputs, max_new_tokens=3, do_sample=False)
    assert out.shape[1] == inputs["input_ids"].shape[1] + 3 or out[0, -1] == model.generation_config.eos_token_id
