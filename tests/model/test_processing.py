"""MMReasonProcessor: placeholder expansion, per-sample image grouping, errors, chat templates."""

import functools

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mmreason.model import QWEN_EVAL_SYSTEM, CorruptImageError
from mmreason.model.chat_templates import PLAIN
from mmreason.testing import build_tiny, make_image

from .stock import stock_processor

QWEN_PROMPT = (
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
    "<|im_start|>user\n<image>\nWhat is shown?<|im_end|>\n"
    "<|im_start|>assistant\nA cat.<|im_end|>\n"
)


def _conversation(image=None):
    user = [{"type": "image", "image": image} if image is not None else {"type": "image"}]
    user.append({"type": "text", "text": "What is shown?"})
    return [{"role": "user", "content": user}, {"role": "assistant", "content": "A cat."}]


def test_qwen_2_5_template_matches_llava_next(tiny):
    """Text equals LLaVA-NeXT conv_qwen_2_5 (CHATML) with MAmmoTH-VL's training system prompt."""
    _, processor = tiny
    assert processor.apply_chat_template(_conversation()) == QWEN_PROMPT
    # LLaVA JSON style: placeholders written in the string
    llava = [{"role": "user", "content": "<image>\nWhat is shown?"}, {"role": "assistant", "content": "A cat."}]
    assert processor.apply_chat_template(llava) == QWEN_PROMPT
    prompt = processor.apply_chat_template(
        llava[:1], add_generation_prompt=True, default_system_message=QWEN_EVAL_SYSTEM
    )
    assert prompt == (
        f"<|im_start|>system\n{QWEN_EVAL_SYSTEM}<|im_end|>\n"
        "<|im_start|>user\n<image>\nWhat is shown?<|im_end|>\n<|im_start|>assistant\n"
    )
    with_system = [{"role": "system", "content": "Be brief."}, *llava]
    assert processor.apply_chat_template(with_system).startswith(
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user"
    )


def test_generation_markers_select_assistant_tokens(tiny):
    _, processor = tiny
    conversation = [
        *_conversation(make_image(60, 40)),
        {"role": "user", "content": "And the colour?"},
        {"role": "assistant", "content": "Orange."},
    ]
    out = processor.apply_chat_template(
        conversation, tokenize=True, return_dict=True, return_tensors="pt", return_assistant_tokens_mask=True
    )
    ids, mask = out["input_ids"][0], out["assistant_masks"][0].bool()
    assert processor.tokenizer.decode(ids[mask]) == "A cat.<|im_end|>\nOrange.<|im_end|>\n"
    assert not (ids[mask] == processor.image_token_id).any()


def test_plain_template(tiny):
    _, processor = tiny
    llava = [{"role": "user", "content": "<image>\nDescribe briefly."}, {"role": "assistant", "content": "A dog."}]
    assert processor.apply_chat_template(llava, chat_template=PLAIN) == "<image>A dog.\n"


def test_images_are_grouped_per_sample_by_placeholders(tiny):
    _, processor = tiny
    a, b, c = make_image(70, 30, 1), make_image(30, 70, 2), make_image(50, 50, 3)
    texts = ["<image>\nOne.", "No image.", "<image><image>\nTwo."]
    flat = processor(text=texts, images=[a, b, c], padding=True, return_tensors="pt")
    nested = processor(text=texts, images=[[a], [], [b, c]], padding=True, return_tensors="pt")
    assert flat["batch_num_images"].tolist() == [1, 2]
    for key in ("input_ids", "pixel_values", "image_sizes"):
        assert torch.equal(flat[key], nested[key])
    stock = stock_processor(processor)(text=texts, images=[[a], [], [b, c]], padding=True, return_tensors="pt")
    assert torch.equal(flat["input_ids"], stock["input_ids"])


@pytest.mark.parametrize(
    ("texts", "images", "message"),
    [
        (["<image>\nQ"], None, "Found 1 <image> tokens in the text but no images"),
        (["<image>\nQ", "Q"], ["a", "b"], r"1 <image> placeholders \(per sample: \[1, 0\]\) but 2 images"),
        (["<image>\nQ", "Q"], [["a", "b"], []], r"\[1, 0\] <image> placeholders per sample but \[2, 0\] images"),
        (["Q"], ["a"], r"0 <image> placeholders \(per sample: \[0\]\) but 1 images"),
    ],
)
def test_placeholder_count_mismatch_is_a_clear_error(tiny, texts, images, message):
    _, processor = tiny
    pictures = {"a": make_image(20, 20, 1), "b": make_image(20, 20, 2)}
    given = (
        None if images is None else [[pictures[x] for x in s] if isinstance(s, list) else pictures[s] for s in images]
    )
    with pytest.raises(ValueError, match=message):
        processor(text=texts, images=given)


def test_nested_images_with_the_same_total_are_regrouped_by_text(tiny):
    _, processor = tiny
    a, b = make_image(20, 20, 1), make_image(20, 20, 2)
    out = processor(text=["<image>\nQ", "<image>Q"], images=[[a, b], []], padding=True, return_tensors="pt")
    assert out["batch_num_images"].tolist() == [1, 1]


def test_corrupt_image_path_is_named(tiny, tmp_path):
    _, processor = tiny
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(CorruptImageError, match=r"broken\.jpg"):
        processor(text="<image>\nQ", images=[str(bad)])


def test_video_in_chat_template(tiny):
    model, processor = tiny
    frames = [make_image(40, 40, seed=s) for s in range(2)]
    conversation = [{"role": "user", "content": [{"type": "video", "video": frames}, {"type": "text", "text": "Q"}]}]
    prompt = processor.apply_chat_template(conversation, add_generation_prompt=True)
    assert "<video>\nQ" in prompt
    out = processor.apply_chat_template(
        conversation, add_generation_prompt=True, tokenize=True, return_dict=True, return_tensors="pt"
    )
    assert out["pixel_values_videos"].shape[:2] == (1, 2)
    with torch.no_grad():
        model(**out)


def test_images_in_assistant_turns_are_never_supervised(tiny):
    _, processor = tiny
    conversation = [
        {"role": "user", "content": "Draw it."},
        {
            "role": "assistant",
            "content": [{"type": "text", "text": "Here:"}, {"type": "image", "image": make_image(30, 30)}],
        },
    ]
    out = processor.apply_chat_template(
        conversation, tokenize=True, return_dict=True, return_tensors="pt", return_assistant_tokens_mask=True
    )
    ids, mask = out["input_ids"][0], out["assistant_masks"][0].bool()
    assert (ids == processor.image_token_id).sum() > 0
    assert not (ids[mask] == processor.image_token_id).any()
    assert processor.tokenizer.decode(ids[mask]) == "Here:<|im_end|>\n"


def test_per_call_max_image_pixels(tiny):
    from mmreason.model import ImageTooLargeError

    _, processor = tiny
    image = make_image(200, 100)
    with pytest.raises(ImageTooLargeError):
        processor(text="<image>Q", images=[image], max_image_pixels=10_000)
    processor(text="<image>Q", images=[image], max_image_pixels=10**6)


@functools.cache
def _real_geometry_processor(ratio):
    return build_tiny(real_geometry=True, vision_aspect_ratio=ratio, grid="(1x1),...,(6x6)")[1]


@settings(max_examples=400, deadline=None)
@given(st.integers(1, 3000), st.integers(1, 3000), st.sampled_from(["anyres_max_4", "anyres_max_9"]))
def test_anyres_counts_equal_stock_where_the_unpad_rules_agree(height, width, ratio):
    """Stock comparisons hold only where LLaVA-NeXT's truncating unpad and transformers' `int(round(x, 7))` agree.

    On the (1x1)..(6x6) x 384 px grid (27x27 features per tile) our count equals stock transformers' unless the
    unpad product is a float just below an integer; there we follow LLaVA-NeXT (golden fixture:
    tests/model/test_anyres_golden.py) and stock keeps 2 more feature columns or rows (47x423: 1161, not 1053).
    """
    from mmreason.model.anyres import select_best_resolution

    ours = _real_geometry_processor(ratio)
    best_h, best_w = select_best_resolution((height, width), ours.image_processor.image_grid_pinpoints)
    feat_h, feat_w = best_h // 384 * 27, best_w // 384 * 27
    product = height * (feat_w / width) if width / height > feat_w / feat_h else width * (feat_h / height)
    if int(product) == int(round(product, 7)):
        expected = stock_processor(ours)._get_number_of_features(height, width, 384, 384)
        assert ours._get_number_of_features(height, width, 384, 384) == expected
