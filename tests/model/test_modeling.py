"""Numerics of MMReasonForConditionalGeneration against transformers' stock LLaVA-OneVision on copied weights."""

import pytest
import torch

from mmreason import MMReasonForConditionalGeneration
from mmreason.testing import build_tiny, make_image

from .stock import logits, stock_copy, stock_processor

PROMPTS = {
    "wide": ("<image>\nDescribe the chart.", ["wide"]),
    "tall": ("<image>\nRead the receipt.", ["tall"]),
    "small": ("<image>\nWhat colour?", ["small"]),
    "two_images": ("<image>\n<image>\nCompare the two images.", ["wide", "tall"]),
    "text_only": ("Solve 2 + 3 step by step.", []),
}


def _chat(processor, text):
    return processor.apply_chat_template([{"role": "user", "content": text}], add_generation_prompt=True)


@pytest.fixture(scope="module", params=["anyres_max_4", "anyres_max_9"])
def pair(request):
    # A large grid and a big "wide" image so anyres_max_4 (and _9) really downsample the grid features.
    model, processor = build_tiny(vision_aspect_ratio=request.param, grid="(1x1),...,(6x6)")
    return model, processor, stock_copy(model), stock_processor(processor)


@pytest.fixture(scope="module")
def images():
    return {"wide": make_image(400, 90, seed=1), "tall": make_image(45, 170, seed=2), "small": make_image(20, 14, 3)}


@pytest.mark.parametrize("case", sorted(PROMPTS))
def test_matches_stock_llava_onevision(pair, images, case):
    model, processor, stock, stock_proc = pair
    text, names = PROMPTS[case]
    prompt = _chat(processor, text)
    ours_in = processor(text=prompt, images=[images[n] for n in names] or None, return_tensors="pt")
    stock_in = stock_proc(text=[prompt], images=[[images[n] for n in names]] if names else None, return_tensors="pt")

    # Same placeholder expansion (image-token counts) and the same pixels.
    assert torch.equal(ours_in["input_ids"], stock_in["input_ids"])
    n_image_tokens = int((ours_in["input_ids"] == model.config.image_token_index).sum())
    assert n_image_tokens == int((stock_in["input_ids"] == model.config.image_token_index).sum())
    assert (n_image_tokens > 0) == bool(names)
    if names:
        assert torch.allclose(ours_in["pixel_values"], stock_in["pixel_values"], atol=1e-5, rtol=0)

    torch.testing.assert_close(logits(model, ours_in), logits(stock, stock_in), atol=1e-5, rtol=0)

    ours_gen = model.generate(**ours_in, max_new_tokens=6, do_sample=False)
    stock_gen = stock.generate(**stock_in, max_new_tokens=6, do_sample=False)
    assert torch.equal(ours_gen, stock_gen)


def test_anyres_max_downsamples_large_grids(images):
    """anyres_max_4 keeps fewer grid tokens than anyres_max_9 for a large image, and the model agrees."""
    counts = {}
    for ratio in ("anyres_max_4", "anyres_max_9"):
        model, processor = build_tiny(vision_aspect_ratio=ratio, grid="(1x1),...,(6x6)")
        inputs = processor(text=_chat(processor, "<image>\nQ"), images=[make_image(190, 190, 4)], return_tensors="pt")
        counts[ratio] = int((inputs["input_ids"] == model.config.image_token_index).sum())
        logits(model, inputs)  # raises if the model's feature count differs from the processor's
    assert counts["anyres_max_4"] < counts["anyres_max_9"]


def test_video_matches_stock():
    model, processor = build_tiny()
    stock = stock_copy(model)
    frames = [make_image(60, 40, seed=s) for s in range(3)]
    prompt = processor.apply_chat_template(
        [{"role": "user", "content": [{"type": "video"}, {"type": "text", "text": "What happens?"}]}],
        add_generation_prompt=True,
    )
    inputs = processor(text=prompt, videos=[frames], return_tensors="pt")
    side = model.config.vision_config.image_size // model.config.vision_config.patch_size
    pooled = -(-side // 2)  # 2x2 bilinear pooling: ceil(side / 2) per side
    assert int((inputs["input_ids"] == model.config.video_token_index).sum()) == 3 * pooled * pooled + 1
    assert inputs["pixel_values_videos"].shape == (1, 3, 3, 32, 32)
    torch.testing.assert_close(logits(model, inputs), logits(stock, inputs), atol=1e-5, rtol=0)


def test_backbones_compose_from_any_hf_config():
    """A CLIP vision tower (CLS token, strategy "default") and a Llama LM compose, and token counts still match."""
    from transformers import LlamaConfig

    from mmreason import MMReasonProcessor
    from mmreason.testing import build_tokenizer, tiny_config

    clip = {
        "model_type": "clip_vision_model",
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "image_size": 32,
        "patch_size": 8,
    }
    llama = LlamaConfig(
        vocab_size=261,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
    )
    tokenizer = build_tokenizer()
    config = tiny_config(
        tokenizer, vision_config=clip, text_config=llama.to_dict(), vision_feature_select_strategy="default"
    )
    model = MMReasonForConditionalGeneration(config).eval()
    assert type(model.model.vision_tower).__name__ == "CLIPVisionModel"
    assert type(model.model.language_model).__name__ == "LlamaModel"
    processor = MMReasonProcessor.from_model_config(config, tokenizer)
    for text, imgs in (
        ("<image>\nQ", [make_image(50, 30)]),
        ("<image><image>\nQ", [make_image(9, 9), make_image(30, 5)]),
    ):
        inputs = processor(text=_chat(processor, text), images=imgs, return_tensors="pt")
        assert logits(model, inputs).shape[1] == inputs["input_ids"].shape[1]


def test_real_geometry_matches_stock():
    """384 px tiles / patch 14 (729 tokens per tile), the SigLIP-so400m geometry, on a 600x900 image."""
    model, processor = build_tiny(real_geometry=True)
    stock, stock_proc = stock_copy(model), stock_processor(processor)
    image = make_image(600, 900, seed=5)
    prompt = _chat(processor, "<image>\nWhat is in the picture?")
    ours_in = processor(text=prompt, images=[image], return_tensors="pt")
    stock_in = stock_proc(text=[prompt], images=[[image]], return_tensors="pt")
    assert ours_in["pixel_values"].shape[-1] == 384
    assert torch.equal(ours_in["input_ids"], stock_in["input_ids"])
    torch.testing.assert_close(logits(model, ours_in), logits(stock, stock_in), atol=1e-5, rtol=0)


def test_sdpa_and_eager_agree(tiny, images):
    model, processor = tiny
    inputs = processor(text=_chat(processor, "<image>\nQ"), images=[images["wide"]], return_tensors="pt")
    model.set_attn_implementation("eager")
    eager = logits(model, inputs)
    model.set_attn_implementation("sdpa")
    torch.testing.assert_close(logits(model, inputs), eager, atol=1e-5, rtol=0)


def test_gradient_checkpointing_gives_same_gradients(images):
    model, processor = build_tiny()
    model.train()
    inputs = processor(
        text=_chat(processor, "<image>\nQ") + "An answer.", images=[images["tall"]], return_tensors="pt"
    )
    labels = inputs["input_ids"].clone()

    def grads():
        model.zero_grad()
        model(**inputs, labels=labels).loss.backward()
        return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}

    plain = grads()
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    assert model.model.language_model.gradient_checkpointing
    checkpointed = grads()
    assert plain.keys() == checkpointed.keys() and "model.image_newline" in plain
    for name in plain:
        torch.testing.assert_close(checkpointed[name], plain[name], atol=1e-6, rtol=1e-5)


def test_trl_fused_head_contract(tiny, images):
    """TRL calls model.base_model(**collator_outputs).last_hidden_state and get_output_embeddings().weight."""
    model, processor = tiny
    inputs = processor(text=_chat(processor, "<image>\nQ"), images=[images["small"]], return_tensors="pt")
    assert model.base_model is model.model
    with torch.no_grad():
        hidden = model.base_model(**inputs).last_hidden_state
        full = model(**inputs).logits
    head = model.get_output_embeddings()
    assert isinstance(head, torch.nn.Linear)
    torch.testing.assert_close(hidden @ head.weight.T, full, atol=1e-5, rtol=0)


def test_streaming_generation(tiny, images):
    from threading import Thread

    from transformers import TextIteratorStreamer

    model, processor = tiny
    inputs = processor(text=_chat(processor, "<image>\nQ"), images=[images["wide"]], return_tensors="pt")
    streamer = TextIteratorStreamer(processor.tokenizer, skip_prompt=True, skip_special_tokens=False)
    thread = Thread(
        target=model.generate,
        kwargs={**inputs, "max_new_tokens": 8, "do_sample": False, "min_new_tokens": 8, "streamer": streamer},
    )
    thread.start()
    streamed = "".join(streamer)
    thread.join()
    reference = model.generate(**inputs, max_new_tokens=8, min_new_tokens=8, do_sample=False)
    expected = processor.tokenizer.decode(reference[0, inputs["input_ids"].shape[1] :], skip_special_tokens=False)
    assert streamed == expected and len(streamed) > 0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="flash-attention-2 and bf16 kernels need a CUDA GPU")
def test_flash_attention_2_bf16_matches_sdpa(images):
    pytest.importorskip("flash_attn")
    model, processor = build_tiny(real_geometry=True)
    model = model.to("cuda", torch.bfloat16)
    inputs = processor(text=_chat(processor, "<image>\nQ"), images=[images["wide"]], return_tensors="pt")
    inputs = inputs.to("cuda")
    inputs["pixel_values"] = inputs["pixel_values"].to(torch.bfloat16)
    model.set_attn_implementation("sdpa")
    sdpa = logits(model, inputs).float()
    model.set_attn_implementation("flash_attention_2")
    torch.testing.assert_close(logits(model, inputs).float(), sdpa, atol=5e-2, rtol=5e-2)


def test_every_trainable_parameter_gets_a_gradient(images):
    """DDP with find_unused_parameters=False (TRL's default with activation checkpointing) needs this."""
    model, processor = build_tiny()
    model.train()
    inputs = processor(text=_chat(processor, "<image>\nQ") + "A.", images=[images["wide"]], return_tensors="pt")
    model(**inputs, labels=inputs["input_ids"]).loss.backward()
    unused = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert not unused
    assert not model.model.vision_tower.post_layernorm.weight.requires_grad
