"""Marker-based routing of LLaVA-NeXT folders through the Auto classes, and no change for every other folder."""

import json
import subprocess
import sys
import textwrap

import pytest
import torch
from transformers import (
    AutoConfig,
    AutoModelForImageTextToText,
    AutoModelForMultimodalLM,
    AutoProcessor,
    CLIPImageProcessorPil,
    CLIPVisionConfig,
    LlamaConfig,
    LlavaConfig,
    LlavaForConditionalGeneration,
    LlavaProcessor,
    Qwen2Config,
    Qwen2ForCausalLM,
    pipeline,
)

from mmreason import MMReasonConfig, MMReasonForConditionalGeneration, MMReasonProcessor
from mmreason.testing import build_tiny, build_tokenizer, make_image

from .llava_next_fixture import write_llava_next_checkpoint

pytestmark = pytest.mark.usefixtures("offline_hf_cache")  # tests/model/conftest.py


@pytest.fixture(scope="module")
def llava_hf_folder(tmp_path_factory):
    """A tiny llava-hf LLaVA-1.5 checkpoint built and saved with stock transformers classes only."""
    path = tmp_path_factory.mktemp("llava15")
    tokenizer = build_tokenizer()
    config = LlavaConfig(
        vision_config=CLIPVisionConfig(
            hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2, image_size=32,
            patch_size=8, projection_dim=16,
        ),
        text_config=LlamaConfig(
            hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=2,
            vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id,
        ),
        image_token_id=tokenizer.convert_tokens_to_ids("<image>"),
    )  # fmt: skip
    torch.manual_seed(0)
    LlavaForConditionalGeneration(config).save_pretrained(path)
    image_processor = CLIPImageProcessorPil(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    LlavaProcessor(image_processor=image_processor, tokenizer=tokenizer, patch_size=8,
                   vision_feature_select_strategy="default").save_pretrained(path)  # fmt: skip
    return path


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """A tiny LLaVA-NeXT release with `model_type: "llava"`, as lmms-lab and MAmmoTH-VL ship it."""
    model, processor = build_tiny(seed=11)
    return model, processor, write_llava_next_checkpoint(model, tmp_path_factory.mktemp("release"))


def test_stock_llava_folders_get_exactly_the_stock_classes(llava_hf_folder):
    assert type(AutoConfig.from_pretrained(llava_hf_folder)) is LlavaConfig
    assert type(AutoConfig.for_model("llava")) is LlavaConfig
    assert type(AutoModelForImageTextToText.from_pretrained(llava_hf_folder)) is LlavaForConditionalGeneration
    assert type(AutoModelForMultimodalLM.from_pretrained(llava_hf_folder)) is LlavaForConditionalGeneration
    assert type(AutoProcessor.from_pretrained(llava_hf_folder)) is LlavaProcessor
    pipe = pipeline("image-text-to-text", model=str(llava_hf_folder))
    assert type(pipe.model) is LlavaForConditionalGeneration and type(pipe.processor) is LlavaProcessor


@pytest.fixture
def no_stock_llava(monkeypatch):
    """For a released LLaVA-NeXT config the stock class would be a random 7B LLaVA-1.5: it must never be built."""

    def never(*args, **kwargs):
        raise AssertionError("the stock LLaVA-1.5 class was instantiated for a LLaVA-NeXT folder")

    monkeypatch.setattr(LlavaForConditionalGeneration, "__init__", never)


def test_released_llava_next_folder_routes_to_mmreason(release, no_stock_llava):
    model, _, path = release
    assert json.loads((path / "config.json").read_text())["model_type"] == "llava"
    config = AutoConfig.from_pretrained(path)
    assert type(config) is MMReasonConfig and config.vision_config.num_hidden_layers == 3
    for auto_class in (AutoModelForImageTextToText, AutoModelForMultimodalLM):
        loaded = auto_class.from_pretrained(path)
        assert type(loaded) is MMReasonForConditionalGeneration
        for name, tensor in model.state_dict().items():
            assert torch.equal(loaded.state_dict()[name], tensor), name
    assert type(AutoProcessor.from_pretrained(path)) is MMReasonProcessor


def test_pipeline_on_a_released_llava_next_folder(release, no_stock_llava):
    model, processor, path = release
    pipe = pipeline("image-text-to-text", model=str(path))
    assert type(pipe.model) is MMReasonForConditionalGeneration and type(pipe.processor) is MMReasonProcessor
    image = make_image(60, 40, seed=2)
    messages = [{"role": "user", "content": [{"type": "image", "image": image}, {"type": "text", "text": "Hi?"}]}]
    out = pipe(text=messages, max_new_tokens=5, do_sample=False, return_full_text=False)[0]["generated_text"]
    # reference: the in-memory model the release was written from, with its own processor
    inputs = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=True, return_dict=True,
                                           return_tensors="pt")  # fmt: skip
    with torch.no_grad():
        ids = model.generate(**inputs, max_new_tokens=5, do_sample=False)
    assert out == processor.decode(ids[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True)


@pytest.mark.parametrize("model_type", ["llava", "qwen2", "llava_qwen"])
def test_auto_config_of_every_llava_next_model_type_is_mmreason(release, tmp_path, model_type):
    model, _, _ = release
    path = write_llava_next_checkpoint(model, tmp_path / model_type, model_type=model_type)
    assert type(AutoConfig.from_pretrained(path)) is MMReasonConfig


def test_plain_qwen2_and_llava_configs_are_untouched(tmp_path):
    Qwen2Config(hidden_size=32, num_hidden_layers=1, num_attention_heads=2).save_pretrained(tmp_path / "qwen2")
    assert type(AutoConfig.from_pretrained(tmp_path / "qwen2")) is Qwen2Config
    assert type(AutoConfig.for_model("qwen2")) is Qwen2Config
    assert type(MMReasonConfig().text_config) is Qwen2Config  # sub-config defaults still build the stock class


QWEN2_ANSWERS = textwrap.dedent("""
    import json, sys
    from transformers import AutoConfig, Qwen2Config
    from transformers.models.auto import modeling_auto, processing_auto, tokenization_auto

    def qwen2_answers(folder):
        \"\"\"What every Auto mapping says about `Qwen2Config`, and what `AutoConfig` builds for a Qwen2 folder.\"\"\"
        mappings = {name: getattr(modeling_auto, name) for name in dir(modeling_auto) if name.endswith("_MAPPING")}
        mappings["PROCESSOR_MAPPING"] = processing_auto.PROCESSOR_MAPPING
        mappings["TOKENIZER_MAPPING"] = tokenization_auto.TOKENIZER_MAPPING
        out = {name: repr(mapping[Qwen2Config]) if Qwen2Config in mapping else None
               for name, mapping in sorted(mappings.items())}
        Qwen2Config(hidden_size=32, num_hidden_layers=1, num_attention_heads=2).save_pretrained(folder)
        out["AutoConfig.from_pretrained"] = repr(type(AutoConfig.from_pretrained(folder)))
        out["AutoConfig.for_model"] = repr(type(AutoConfig.for_model("qwen2")))
        return out

    if __name__ == "__main__":
        assert "mmreason" not in sys.modules
        print(json.dumps(qwen2_answers(sys.argv[1])))
""")


def test_import_mmreason_does_not_change_the_mappings_of_qwen2_config(tmp_path):
    """Every Auto mapping's answer for `Qwen2Config` is the same here (mmreason imported) as in a fresh process
    that never imports mmreason."""
    result = subprocess.run([sys.executable, "-c", QWEN2_ANSWERS, str(tmp_path / "fresh")],
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    without = json.loads(result.stdout.strip().splitlines()[-1])
    namespace = {}
    exec(QWEN2_ANSWERS, namespace)  # the same code, in this process
    assert namespace["qwen2_answers"](tmp_path / "here") == without
    assert without["MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING"] is None  # transformers maps no VLM to Qwen2Config
    assert without["MODEL_FOR_CAUSAL_LM_MAPPING"] == repr(Qwen2ForCausalLM)
