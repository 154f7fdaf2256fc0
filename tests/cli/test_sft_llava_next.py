"""`mmreason sft` on a LLaVA-NeXT release -> checkpoint -> `AutoModelForImageTextToText` gives the trained weights."""

from pathlib import Path

import huggingface_hub.constants
import pytest
import torch
from safetensors import safe_open
from transformers import AutoModelForImageTextToText, AutoProcessor

from mmreason import MMReasonForConditionalGeneration, MMReasonProcessor
from mmreason.cli import main
from mmreason.data.prepare import prepare_corpus
from mmreason.testing import build_tiny, make_image
from mmreason.train import RationaleSFTTrainer
from tests.data.corpus_fixtures import write_mammoth_vl
from tests.model.llava_next_fixture import write_hf_cache, write_llava_next_checkpoint

RECIPE = Path(__file__).resolve().parents[2] / "examples" / "recipes" / "si.yaml"
PROMPT = "<|im_start|>user\n<image>\nWhat is x?<|im_end|>\n<|im_start|>assistant\nThe angles"


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    cache = write_hf_cache(tmp_path / "hub")  # the SigLIP tower's config, as in a warm HF cache
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    write_mammoth_vl(tmp_path / "raw", num_si=8)
    prepare_corpus("mammoth-vl", tmp_path / "raw", tmp_path / "prepared", subsets=["si"], progress=False)
    model, _ = build_tiny(seed=7)
    write_llava_next_checkpoint(model, tmp_path / "release")  # model_type "llava", as released
    return tmp_path, model


def _logits(model, processor):
    inputs = processor(text=PROMPT, images=[make_image(70, 40, seed=1)], return_tensors="pt")
    with torch.no_grad():
        return model.eval()(**inputs).logits


def _names(path):
    with safe_open(str(path / "model.safetensors"), "pt") as f:
        return set(f.keys())


def test_sft_on_a_llava_next_release_saves_checkpoints_that_reload_as_trained(workspace, monkeypatch):
    root, initial = workspace
    trained = {}
    save_model = RationaleSFTTrainer.save_model

    def keep_the_trained_model(self, *args, **kwargs):  # spy: records the in-memory model, then saves as usual
        trained["model"] = self.model
        return save_model(self, *args, **kwargs)

    monkeypatch.setattr(RationaleSFTTrainer, "save_model", keep_the_trained_model)
    out = root / "out"
    main(["sft", "--config", str(RECIPE), "--model_name_or_path", str(root / "release"),
          "--dataset_name", str(root / "prepared"), "--dataset_config", "si", "--output_dir", str(out),
          "--use_cpu", "true", "--bf16", "false", "--dtype", "float32", "--per_device_train_batch_size", "2",
          "--gradient_accumulation_steps", "1", "--dataloader_num_workers", "0", "--max_length", "4096",
          "--max_steps", "2", "--save_strategy", "steps", "--save_steps", "2", "--logging_steps", "1"])  # fmt: skip

    model = trained["model"]
    assert type(model) is MMReasonForConditionalGeneration
    state = {k: v.detach() for k, v in model.state_dict().items()}
    assert any(not torch.equal(state[k], v) for k, v in initial.state_dict().items()), "nothing was trained"
    processor = AutoProcessor.from_pretrained(out)
    assert type(processor) is MMReasonProcessor
    expected = _logits(model, processor)
    for checkpoint in (out, out / "checkpoint-2"):
        assert _names(checkpoint) == set(state)  # mmreason's own names, not the release's
        reloaded = AutoModelForImageTextToText.from_pretrained(checkpoint)
        assert type(reloaded) is MMReasonForConditionalGeneration
        for name, tensor in state.items():
            assert torch.equal(reloaded.state_dict()[name], tensor), (checkpoint.name, name)
        torch.testing.assert_close(_logits(reloaded, processor), expected, atol=0, rtol=0)
