"""`image_unpad_rule`: which anyres crop a checkpoint uses, followed by the processor, the model and the converters.

`"truncate"` (the default) is LLaVA-NeXT's rule, checked against the original code's golden fixture in
test_anyres_golden.py; `"round"` is transformers' own, checked here against stock `LlavaOnevisionProcessor` and
`LlavaOnevisionModel.pack_image_features` on sizes where the two rules disagree.
"""

import functools
import json
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from transformers import LlavaOnevisionConfig

from mmreason.model import MMReasonConfig, MMReasonForConditionalGeneration, MMReasonProcessor
from mmreason.model.anyres import unpad_crop
from mmreason.model.convert import convert_checkpoint
from mmreason.model.llava_next_format import LlavaNextFormatError
from mmreason.testing import build_tiny, make_image

from .stock import stock_copy, stock_processor

GRID = "(1x1),...,(6x6)"
DISAGREE = [(423, 47), (47, 423)]  # (height, width) where 47 * (54 / 423) = 5.999999999999999
GOLDEN = json.loads((Path(__file__).parent / "fixtures" / "anyres_llava_next.json").read_text())["cases"]


@functools.cache
def _tiny(ratio: str, rule: str):
    return build_tiny(real_geometry=True, vision_aspect_ratio=ratio, grid=GRID, image_unpad_rule=rule)


def test_the_rules_differ_where_the_product_is_just_below_an_integer():
    # a 47x423 image on a 2x1 grid of 27x27 features: 47 * (54 / 423) = 5.999999999999999 columns
    assert unpad_crop((54, 27), (423, 47), "truncate") == (slice(0, 54), slice(11, 16))  # (27 - 5) // 2 = 11
    assert unpad_crop((54, 27), (423, 47), "round") == (slice(0, 54), slice(10, 17))  # (27 - 6) // 2 = 10
    with pytest.raises(ValueError, match="unpad rule"):
        unpad_crop((54, 27), (423, 47), "floor")


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 3000), st.integers(1, 3000), st.sampled_from(["anyres_max_4", "anyres_max_9"]))
def test_round_rule_counts_equal_stock_transformers_everywhere(height, width, ratio):
    ours = _tiny(ratio, "round")[1]
    expected = stock_processor(ours)._get_number_of_features(height, width, 384, 384)
    assert ours._get_number_of_features(height, width, 384, 384) == expected


@pytest.mark.parametrize("ratio", ["anyres_max_4", "anyres_max_9"])
def test_each_rule_on_the_sizes_where_they_disagree(ratio):
    truncate, round_ = _tiny(ratio, "truncate")[1], _tiny(ratio, "round")[1]
    stock = stock_processor(round_)
    for height, width in DISAGREE:
        llava_next = next(c for c in GOLDEN if (c["height"], c["width"]) == (height, width))[ratio]
        assert truncate._get_number_of_features(height, width, 384, 384) == llava_next["num_image_tokens"]
        rounded = round_._get_number_of_features(height, width, 384, 384)
        assert rounded == stock._get_number_of_features(height, width, 384, 384) > llava_next["num_image_tokens"]


@pytest.mark.parametrize("ratio", ["anyres_max_4", "anyres_max_9"])
def test_round_rule_packing_equals_stock_transformers(ratio):
    model = _tiny(ratio, "round")[0]
    stock = stock_copy(model).model
    torch.manual_seed(0)
    newline = torch.randn(2, dtype=torch.float64)
    for height, width in [*DISAGREE, (1153, 944), (3000, 200), (200, 160)]:
        n = _tiny(ratio, "round")[1].image_processor.preprocess([make_image(width, height)])["pixel_values"].shape[1]
        features = [torch.randn(n, 27 * 27, 2, dtype=torch.float64)]
        sizes = torch.tensor([[height, width]])
        ours, ours_len = model.model.pack_image_features(features, sizes, newline, ratio)
        ref, ref_len = stock.pack_image_features(features, sizes, newline, ratio)
        assert ours_len.tolist() == ref_len.tolist(), (height, width)
        torch.testing.assert_close(ours[0], ref[0], rtol=0, atol=0)


def test_round_rule_model_runs_the_processors_placeholders():
    model, processor = _tiny("anyres_max_9", "round")
    inputs = processor(text="<image>\nDescribe.", images=[make_image(47, 423)], return_tensors="pt")
    assert int((inputs["input_ids"] == processor.image_token_id).sum()) == 1161
    with torch.no_grad():
        assert model(**inputs).logits.shape[1] == inputs["input_ids"].shape[1]


def test_config_field_default_validation_and_round_trip(tmp_path):
    assert MMReasonConfig().image_unpad_rule == "truncate"
    with pytest.raises(ValueError, match="unpad rule"):
        MMReasonConfig(image_unpad_rule="floor")
    model, processor = build_tiny(image_unpad_rule="round")
    model.save_pretrained(tmp_path / "m")
    processor.save_pretrained(tmp_path / "m")
    assert MMReasonConfig.from_pretrained(tmp_path / "m").image_unpad_rule == "round"
    assert MMReasonProcessor.from_pretrained(tmp_path / "m").image_unpad_rule == "round"


def test_llava_onevision_export_carries_the_rule_and_folders_without_it_truncate(tmp_path):
    model, processor = build_tiny(image_unpad_rule="round")
    model.save_pretrained(tmp_path / "m")
    processor.save_pretrained(tmp_path / "m")
    with pytest.warns(UserWarning):  # anyres_max_4: stock vLLM would not serve it faithfully
        convert_checkpoint(tmp_path / "m", tmp_path / "ov", to="llava_onevision")
    written = json.loads((tmp_path / "ov" / "config.json").read_text())
    assert written["image_unpad_rule"] == "round"
    assert LlavaOnevisionConfig.from_pretrained(tmp_path / "ov").image_unpad_rule == "round"  # stock reads it
    assert MMReasonProcessor.from_pretrained(tmp_path / "ov").image_unpad_rule == "round"
    assert MMReasonForConditionalGeneration.from_pretrained(tmp_path / "ov").config.image_unpad_rule == "round"
    del written["image_unpad_rule"]  # a llava_onevision folder from elsewhere: LLaVA-NeXT's rule
    (tmp_path / "ov" / "config.json").write_text(json.dumps(written))
    assert MMReasonConfig.from_pretrained(tmp_path / "ov").image_unpad_rule == "truncate"


def test_llava_next_sources_truncate_and_a_rounding_model_is_not_exported_to_llava_next(tmp_path):
    model, processor = build_tiny()
    model.save_pretrained(tmp_path / "m")
    processor.save_pretrained(tmp_path / "m")
    convert_checkpoint(tmp_path / "m", tmp_path / "next", to="llava_next")
    assert MMReasonConfig.from_pretrained(tmp_path / "next").image_unpad_rule == "truncate"
    model.config.image_unpad_rule = "round"
    model.save_pretrained(tmp_path / "r")
    processor.save_pretrained(tmp_path / "r")
    with pytest.raises(LlavaNextFormatError, match="image_unpad_rule='round'"):
        convert_checkpoint(tmp_path / "r", tmp_path / "next2", to="llava_next")
