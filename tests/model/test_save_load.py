"""save_pretrained -> Auto*.from_pretrained round trips, in this process and in a fresh one."""

import json
import subprocess
import sys
import textwrap

import pytest
import torch
from transformers import (
    AutoConfig,
    AutoImageProcessor,
    AutoModel,
    AutoModelForImageTextToText,
    AutoModelForMultimodalLM,
    AutoProcessor,
)

from mmreason import (
    MMReasonConfig,
    MMReasonForConditionalGeneration,
    MMReasonImageProcessor,
    MMReasonModel,
    MMReasonProcessor,
)
from mmreason.testing import make_image

PROMPT = "<|im_start|>user\n<image>\nWhat is shown?<|im_end|>\n<|im_start|>assistant\n"


@pytest.fixture(scope="module")
def saved(tmp_path_factory, tiny):
    model, processor = tiny
    path = tmp_path_factory.mktemp("ckpt")
    model.save_pretrained(path)
    processor.save_pretrained(path)
    image_path = path / "probe.png"
    make_image(90, 50, seed=7).save(image_path)
    return path, image_path


def _logits(model, processor, image_path):
    inputs = processor(text=PROMPT, images=[str(image_path)], return_tensors="pt")
    with torch.no_grad():
        return model(**inputs).logits


def test_auto_classes_resolve_to_mmreason(saved):
    path, _ = saved
    assert type(AutoConfig.from_pretrained(path)) is MMReasonConfig
    assert type(AutoModelForImageTextToText.from_pretrained(path)) is MMReasonForConditionalGeneration
    assert type(AutoModelForMultimodalLM.from_pretrained(path)) is MMReasonForConditionalGeneration
    assert type(AutoModel.from_pretrained(path)) is MMReasonModel
    assert type(AutoProcessor.from_pretrained(path)) is MMReasonProcessor
    assert type(AutoImageProcessor.from_pretrained(path)) is MMReasonImageProcessor
    saved_config = json.loads((path / "config.json").read_text())
    assert saved_config["model_type"] == "mmreason"
    assert saved_config["architectures"] == ["MMReasonForConditionalGeneration"]


def test_processor_settings_survive(saved, tiny):
    path, _ = saved
    _, processor = tiny
    loaded = AutoProcessor.from_pretrained(path)
    assert loaded.chat_template == processor.chat_template
    assert loaded.num_image_tokens == processor.num_image_tokens
    assert loaded.vision_aspect_ratio == processor.vision_aspect_ratio
    assert loaded.image_processor.image_grid_pinpoints == processor.image_processor.image_grid_pinpoints
    assert list(loaded.image_processor.image_mean) == list(processor.image_processor.image_mean)


def test_fresh_process_round_trip_gives_equal_logits(saved, tiny, tmp_path):
    path, image_path = saved
    model, processor = tiny
    expected = _logits(model, processor, image_path)
    out = tmp_path / "logits.pt"
    script = textwrap.dedent(f"""
        import torch, mmreason
        from transformers import AutoModelForImageTextToText, AutoProcessor
        model = AutoModelForImageTextToText.from_pretrained({str(path)!r}).eval()
        processor = AutoProcessor.from_pretrained({str(path)!r})
        inputs = processor(text={PROMPT!r}, images=[{str(image_path)!r}], return_tensors="pt")
        with torch.no_grad():
            torch.save(model(**inputs).logits, {str(out)!r})
    """)
    subprocess.run([sys.executable, "-c", script], check=True, env={"HF_HUB_OFFLINE": "1", **_env()})
    torch.testing.assert_close(torch.load(out), expected, atol=1e-5, rtol=0)


def _env():
    import os

    return {k: v for k, v in os.environ.items() if k != "HF_HUB_OFFLINE"}


def test_trl_loads_a_checkpoint_path_in_process(saved, tmp_path):
    """TRL resolves `architectures[0]` on the transformers module; `import mmreason` makes that work."""
    from trl import SFTConfig, SFTTrainer

    from mmreason.data import load_sample_dataset

    path, _ = saved
    args = SFTConfig(
        output_dir=str(tmp_path / "out"),
        max_steps=1,
        per_device_train_batch_size=2,
        max_length=None,
        use_cpu=True,
        bf16=False,
        report_to="none",
        save_strategy="no",
    )
    trainer = SFTTrainer(model=str(path), args=args, train_dataset=load_sample_dataset())
    assert isinstance(trainer.model, MMReasonForConditionalGeneration)
    assert isinstance(trainer.processing_class, MMReasonProcessor)
    trainer.train()
    assert trainer.state.global_step == 1
