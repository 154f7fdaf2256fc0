"""Saving a model loaded from another format writes mmreason's own names; mmreason loads never init silently."""

import json

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from mmreason import MMReasonConfig, MMReasonForConditionalGeneration, MMReasonProcessor
from mmreason.model.convert import convert_checkpoint
from mmreason.testing import build_tiny, make_image

from .llava_next_fixture import write_llava_next_checkpoint

PROMPT = "<|im_start|>user\n<image>\nWhat is shown?<|im_end|>\n<|im_start|>assistant\n"


pytestmark = pytest.mark.usefixtures("offline_hf_cache")  # tests/model/conftest.py


@pytest.fixture(scope="module")
def native(tmp_path_factory):
    model, processor = build_tiny(seed=3)
    path = tmp_path_factory.mktemp("native")
    model.save_pretrained(path)
    processor.save_pretrained(path)
    return model, processor, path


def _saved_tensors(path):
    tensors = {}
    for file in sorted(path.glob("*.safetensors")):
        with safe_open(str(file), "pt") as f:
            tensors.update({k: f.get_tensor(k) for k in f.keys()})  # noqa: SIM118
    return tensors


def _logits(model, processor):
    inputs = processor(text=PROMPT, images=[make_image(80, 50, seed=9)], return_tensors="pt")
    with torch.no_grad():
        return model(**inputs).logits


def _source(kind, native, tmp_path):
    model, _, path = native
    if kind == "llava_next":
        return write_llava_next_checkpoint(model, tmp_path / "release")
    return convert_checkpoint(path, tmp_path / "ov", to="llava_onevision")


@pytest.mark.parametrize("kind", ["llava_next", "llava_onevision"])
def test_a_model_loaded_from_another_format_saves_mmreason_names(native, tmp_path, kind):
    model, processor, _ = native
    loaded = MMReasonForConditionalGeneration.from_pretrained(_source(kind, native, tmp_path))
    loaded.save_pretrained(tmp_path / "saved")
    processor.save_pretrained(tmp_path / "saved")

    saved = _saved_tensors(tmp_path / "saved")
    # mmreason's names are the module tree's parameter names (torch's own `state_dict`, no renaming involved)
    with torch.device("meta"):
        expected_names = set(MMReasonForConditionalGeneration(MMReasonConfig.from_pretrained(tmp_path / "saved"))
                             .state_dict())  # fmt: skip
    assert set(saved) == expected_names
    assert json.loads((tmp_path / "saved" / "config.json").read_text())["model_type"] == "mmreason"
    for name, tensor in model.state_dict().items():
        assert torch.equal(saved[name], tensor), name

    reloaded, info = MMReasonForConditionalGeneration.from_pretrained(tmp_path / "saved", output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"]
    for name, tensor in model.state_dict().items():
        assert torch.equal(reloaded.state_dict()[name], tensor), name
    torch.testing.assert_close(
        _logits(reloaded, MMReasonProcessor.from_pretrained(tmp_path / "saved")),
        _logits(model, processor), atol=1e-5, rtol=0,
    )  # fmt: skip


def _edit_checkpoint(src, dst, edit):
    """Copy the mmreason checkpoint `src` to `dst` with `edit(tensors)` applied to its weights."""
    dst.mkdir()
    for file in src.iterdir():
        if file.suffix != ".safetensors":
            (dst / file.name).write_bytes(file.read_bytes())
    tensors = load_file(src / "model.safetensors")
    edit(tensors)
    save_file(tensors, str(dst / "model.safetensors"), metadata={"format": "pt"})
    return dst


PROJECTOR = "model.multi_modal_projector.linear_2.weight"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.pop(PROJECTOR), r"1 missing \(would be randomly initialised\): \['" + PROJECTOR),
        (lambda t: t.update({"model.projector.extra": t.pop(PROJECTOR)}),
         r"1 unexpected \(present in the checkpoint, unused\): \['model\.projector\.extra'\]"),
        (lambda t: t.update({PROJECTOR: t[PROJECTOR][:, :-1].clone()}), r"1 with mismatched shapes: \[.*linear_2"),
    ],
    ids=["removed", "renamed", "reshaped"],
)  # fmt: skip
def test_an_mmreason_checkpoint_with_a_bad_tensor_raises(native, tmp_path, edit, message):
    _, _, path = native
    bad = _edit_checkpoint(path, tmp_path / "bad", edit)
    with pytest.raises(ValueError, match=message):
        MMReasonForConditionalGeneration.from_pretrained(bad)
    from transformers import AutoModelForImageTextToText

    with pytest.raises(ValueError, match=message):
        AutoModelForImageTextToText.from_pretrained(bad)


def test_explicit_ignore_mismatched_sizes_is_honoured(native, tmp_path):
    _, _, path = native
    bad = _edit_checkpoint(path, tmp_path / "bad", lambda t: t.update({PROJECTOR: t[PROJECTOR][:, :-1].clone()}))
    model = MMReasonForConditionalGeneration.from_pretrained(bad, ignore_mismatched_sizes=True)
    assert model.model.multi_modal_projector.linear_2.weight.shape[1] == model.config.text_config.hidden_size
