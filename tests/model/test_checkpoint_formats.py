"""Checkpoint interop: original LLaVA-NeXT releases, transformers' llava_onevision, and round trips."""

import json

import huggingface_hub.constants
import pytest
import torch
from safetensors import safe_open
from transformers import LlavaOnevisionForConditionalGeneration

from mmreason import MMReasonConfig, MMReasonForConditionalGeneration, MMReasonProcessor
from mmreason.model.convert import convert_checkpoint
from mmreason.testing import build_tiny, make_image

from .llava_next_fixture import write_llava_next_checkpoint

PROMPT = "<|im_start|>user\n<image>\nWhat is shown?<|im_end|>\n<|im_start|>assistant\n"


pytestmark = pytest.mark.usefixtures("offline_hf_cache")  # tests/model/conftest.py


@pytest.fixture(scope="module")
def native(tmp_path_factory):
    model, processor = build_tiny()
    path = tmp_path_factory.mktemp("native")
    model.save_pretrained(path)
    processor.save_pretrained(path)
    return model, processor, path


def _logits(model, processor, image):
    inputs = processor(text=PROMPT, images=[image], return_tensors="pt")
    with torch.no_grad():
        return model(**inputs).logits


def _weights(path):
    tensors = {}
    for file in sorted(path.glob("*.safetensors")):
        with safe_open(str(file), "pt") as f:
            tensors.update({k: f.get_tensor(k) for k in f.keys()})  # noqa: SIM118
    return tensors


@pytest.mark.parametrize("model_type", ["llava", "qwen2", "llava_qwen"])
def test_llava_next_release_loads_as_is(native, tmp_path, model_type):
    model, processor, _ = native
    release = write_llava_next_checkpoint(model, tmp_path / "release", model_type=model_type)
    loaded, info = MMReasonForConditionalGeneration.from_pretrained(release, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"]
    assert loaded.config.vision_config.num_hidden_layers == 3  # 4 on the Hub, the last one deleted
    for name, tensor in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], tensor), name
    release_processor = MMReasonProcessor.from_pretrained(release)
    assert release_processor.image_processor.image_mean == (0.5, 0.5, 0.5) or list(
        release_processor.image_processor.image_mean
    ) == [0.5, 0.5, 0.5]
    image = make_image(90, 50, seed=3)
    torch.testing.assert_close(
        _logits(loaded, release_processor, image), _logits(model, processor, image), atol=1e-5, rtol=0
    )


def test_llava_next_tower_needs_the_hub_config_or_cache(native, tmp_path, monkeypatch):
    model, _, _ = native
    release = write_llava_next_checkpoint(model, tmp_path / "release")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    with pytest.raises(ValueError, match="Cannot resolve the vision tower config 'google/siglip-so400m-patch14-384'"):
        MMReasonConfig.from_pretrained(release)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"mm_projector_type": "linear"}, "Unsupported mm_projector_type 'linear'"),
        ({"image_aspect_ratio": "pad"}, "Unsupported image_aspect_ratio 'pad'"),
        ({"mm_patch_merge_type": "flat"}, "Unsupported mm_patch_merge_type 'flat'"),
        ({"mm_hidden_size": 48}, "mm_hidden_size=48 does not match"),
    ],
)
def test_llava_next_configs_we_cannot_represent_raise(native, tmp_path, override, message):
    model, _, _ = native
    release = write_llava_next_checkpoint(model, tmp_path / "release", **override)
    with pytest.raises(ValueError, match=message):
        MMReasonForConditionalGeneration.from_pretrained(release)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        # video token layouts of llava_arch.py other than "one_token" (the one mmreason implements)
        ({"mm_newline_position": "grid"}, "Unsupported mm_newline_position='grid'"),
        ({"mm_newline_position": "frame"}, "Unsupported mm_newline_position='frame'"),
        ({"mm_newline_position": "no_token"}, "Unsupported mm_newline_position='no_token'"),
        ({"mm_use_im_start_end": True}, "Unsupported mm_use_im_start_end=True"),
        ({"add_faster_video": True, "faster_token_stride": 10}, "Unsupported add_faster_video=True"),
    ],
)
def test_llava_next_fields_mmreason_does_not_implement_raise(native, tmp_path, override, message):
    from transformers import AutoConfig, AutoModelForImageTextToText

    from mmreason.model.llava_next_format import LlavaNextFormatError

    model, _, _ = native
    release = write_llava_next_checkpoint(model, tmp_path / "release", **override)
    loaders = (MMReasonForConditionalGeneration.from_pretrained, AutoConfig.from_pretrained,
               AutoModelForImageTextToText.from_pretrained, convert_checkpoint)  # fmt: skip
    for load in loaders:
        with pytest.raises(LlavaNextFormatError, match=message):
            load(release, tmp_path / "out") if load is convert_checkpoint else load(release)


@pytest.mark.parametrize("newline", [{"mm_newline_position": "one_token"}, {"mm_newline_position": None}, {}])
def test_llava_next_default_and_one_token_newline_load(native, tmp_path, newline):
    """`one_token` is what mmreason implements, and LLaVA-NeXT's default when the field is absent."""
    model, _, _ = native
    release = write_llava_next_checkpoint(model, tmp_path / "release", **newline)
    if not newline:
        config = json.loads((release / "config.json").read_text())
        del config["mm_newline_position"]
        (release / "config.json").write_text(json.dumps(config))
    loaded = MMReasonForConditionalGeneration.from_pretrained(release)
    assert torch.equal(loaded.model.image_newline, model.model.image_newline)


def test_shape_mismatch_and_missing_tower_weights_raise(native, tmp_path):
    model, _, _ = native
    wider = write_llava_next_checkpoint(model, tmp_path / "wider", intermediate_size=256)
    with pytest.raises(ValueError, match=r"3 with mismatched shapes|mismatched shapes"):
        MMReasonForConditionalGeneration.from_pretrained(wider)
    with pytest.raises(ValueError, match="Shape mismatch"):
        convert_checkpoint(wider, tmp_path / "out", to="mmreason")

    no_tower = write_llava_next_checkpoint(model, tmp_path / "no_tower")
    index = json.loads((no_tower / "model.safetensors.index.json").read_text())
    keep = {k: v for k, v in index["weight_map"].items() if ".vision_tower." not in k}
    from safetensors.torch import load_file, save_file

    for file in set(index["weight_map"].values()):
        tensors = {k: v for k, v in load_file(no_tower / file).items() if k in keep}
        save_file(tensors, str(no_tower / file), metadata={"format": "pt"})
    (no_tower / "model.safetensors.index.json").write_text(json.dumps({**index, "weight_map": keep}))
    with pytest.raises(ValueError, match="missing \\(would be randomly initialised\\)"):
        MMReasonForConditionalGeneration.from_pretrained(no_tower)
    with pytest.raises(ValueError, match="no weights for part of the vision tower"):
        convert_checkpoint(no_tower, tmp_path / "out2", to="mmreason")


@pytest.mark.parametrize("via", ["llava_onevision", "llava_next"])
def test_round_trips_are_bit_identical(native, tmp_path, via):
    model, processor, path = native
    exported = convert_checkpoint(path, tmp_path / via, to=via, max_shard_size="100KB")
    assert len(list(exported.glob("*.safetensors"))) > 1 and (exported / "model.safetensors.index.json").exists()
    back = convert_checkpoint(exported, tmp_path / "back", to="mmreason")
    original = _weights(path)
    assert _weights(back).keys() == original.keys()
    assert all(torch.equal(_weights(back)[k], original[k]) for k in original)
    reloaded = MMReasonForConditionalGeneration.from_pretrained(back)
    reprocessor = MMReasonProcessor.from_pretrained(back)
    image = make_image(70, 120, seed=4)
    torch.testing.assert_close(
        _logits(reloaded, reprocessor, image), _logits(model, processor, image), atol=1e-5, rtol=0
    )
    # the intermediate folder also loads directly
    direct = MMReasonForConditionalGeneration.from_pretrained(exported)
    torch.testing.assert_close(
        _logits(direct, MMReasonProcessor.from_pretrained(exported), image),
        _logits(model, processor, image),
        atol=1e-5,
        rtol=0,
    )


def test_llava_onevision_export_loads_in_stock_transformers(native, tmp_path):
    model, processor, path = native
    exported = convert_checkpoint(path, tmp_path / "ov", to="llava_onevision")
    config = json.loads((exported / "config.json").read_text())
    assert config["model_type"] == "llava_onevision" and "mm_projector_type" not in config
    keys = _weights(exported).keys()
    assert any(k.startswith("language_model.model.layers.") for k in keys)
    assert any(k.startswith("vision_tower.vision_model.") for k in keys)
    stock, info = LlavaOnevisionForConditionalGeneration.from_pretrained(exported, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"]
    image = make_image(50, 90, seed=5)
    torch.testing.assert_close(_logits(stock, processor, image), _logits(model, processor, image), atol=1e-5, rtol=0)
    saved = json.loads((exported / "processor_config.json").read_text())
    assert saved["processor_class"] == "LlavaOnevisionProcessor"
    assert saved["image_processor"]["image_processor_type"] == "LlavaOnevisionImageProcessor"
    assert (exported / "chat_template.jinja").read_text() == processor.chat_template


def test_llava_next_export_has_released_layout(native, tmp_path):
    _, _, path = native
    exported = convert_checkpoint(path, tmp_path / "ln", to="llava_next")
    config = json.loads((exported / "config.json").read_text())
    assert config["architectures"] == ["LlavaQwenForCausalLM"]
    assert config["mm_vision_tower"] == "google/siglip-so400m-patch14-384" and config["mm_vision_select_layer"] == -2
    keys = _weights(exported).keys()
    assert "model.mm_projector.0.weight" in keys and "model.image_newline" in keys
    assert any(k.startswith("model.vision_tower.vision_tower.vision_model.encoder.layers.") for k in keys)
    assert any(k.startswith("model.layers.0.") for k in keys) and "lm_head.weight" in keys


@pytest.mark.parametrize("model_type", ["llava_qwen", "qwen2"])
def test_auto_classes_load_llava_next_releases(native, tmp_path, model_type):
    from transformers import AutoModelForImageTextToText, AutoProcessor

    model, _, _ = native
    release = write_llava_next_checkpoint(model, tmp_path / "release", model_type=model_type)
    loaded = AutoModelForImageTextToText.from_pretrained(release)
    assert isinstance(loaded, MMReasonForConditionalGeneration)
    assert all(torch.equal(loaded.state_dict()[k], v) for k, v in model.state_dict().items())
    if model_type == "llava_qwen":
        assert isinstance(AutoProcessor.from_pretrained(release), MMReasonProcessor)


def test_auto_class_on_a_plain_language_model_is_stock_behaviour(tmp_path):
    """A plain Qwen2 folder is not routed to mmreason: transformers' own error, as without mmreason."""
    from transformers import AutoModelForImageTextToText, Qwen2Config

    Qwen2Config(
        hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2, vocab_size=300
    ).save_pretrained(tmp_path)
    with pytest.raises(ValueError, match=r"Unrecognized configuration class .*Qwen2Config.*ImageTextToText"):
        AutoModelForImageTextToText.from_pretrained(tmp_path)
    with pytest.raises(ValueError, match="Not an mmreason, llava_onevision or LLaVA-NeXT checkpoint"):
        MMReasonForConditionalGeneration.from_pretrained(tmp_path)
