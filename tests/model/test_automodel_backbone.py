"""`AutoModel.from_pretrained` returns the backbone with the checkpoint's weights, for every format."""

import pytest
import torch
from safetensors.torch import load_file, save_file
from transformers import AutoModel

from mmreason import MMReasonModel
from mmreason.model.convert import convert_checkpoint


@pytest.fixture(scope="module")
def saved(tmp_path_factory, tiny):
    model, processor = tiny
    root = tmp_path_factory.mktemp("automodel")
    model.save_pretrained(root / "mmreason")
    processor.save_pretrained(root / "mmreason")
    for fmt in ("llava_next", "llava_onevision"):
        convert_checkpoint(root / "mmreason", root / fmt, to=fmt)
    return model, root


def _assert_same_backbone(backbone, model):
    assert type(backbone) is MMReasonModel
    expected = model.model.state_dict()
    got = backbone.state_dict()
    assert got.keys() == expected.keys()
    for name, tensor in expected.items():
        assert torch.equal(got[name], tensor), name


@pytest.mark.parametrize("fmt", ["mmreason", "llava_next"])
def test_automodel_gives_the_checkpoints_backbone(saved, fmt):
    """Before: a LLaVA-NeXT folder loaded through AutoModel left the backbone randomly initialised (a warning)."""
    model, root = saved
    _assert_same_backbone(AutoModel.from_pretrained(root / fmt), model)


def test_backbone_of_a_llava_onevision_folder(saved):
    """A stock `llava_onevision` folder stays stock under AutoModel; MMReasonModel reads it by name."""
    model, root = saved
    _assert_same_backbone(MMReasonModel.from_pretrained(root / "llava_onevision"), model)


def test_a_saved_backbone_reloads(saved, tmp_path):
    model, root = saved
    AutoModel.from_pretrained(root / "llava_next").save_pretrained(tmp_path)
    _assert_same_backbone(AutoModel.from_pretrained(tmp_path), model)


def test_a_backbone_load_with_a_missing_tensor_raises(saved, tmp_path):
    model, _ = saved
    model.save_pretrained(tmp_path)
    weights = load_file(tmp_path / "model.safetensors")
    dropped = next(name for name in weights if "layers.0" in name)
    del weights[dropped]
    save_file(weights, tmp_path / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(ValueError, match="missing"):
        AutoModel.from_pretrained(tmp_path)


def test_llava_next_export_declares_llava_next_own_model_type(saved):
    """LLaVA-NeXT's `LlavaQwenConfig.model_type` is "llava_qwen" (llava/model/language_model/llava_qwen.py);
    the export wrote "llava_qwen2", which neither LLaVA-NeXT nor the Auto classes know."""
    import json

    _, root = saved
    config = json.loads((root / "llava_next" / "config.json").read_text())
    assert config["model_type"] == "llava_qwen"
    assert config["architectures"] == ["LlavaQwenForCausalLM"]


def test_llava_next_pinpoints_are_width_height(tmp_path):
    """LLaVA-NeXT reads `image_grid_pinpoints` as (width, height) (mm_utils.select_best_resolution,
    `for width, height in possible_resolutions`); mmreason's config holds (height, width)."""
    import json

    from mmreason.testing import build_tiny

    model, processor = build_tiny(image_grid_pinpoints=[[32, 64]])  # (h, w): one row of two tiles
    model.save_pretrained(tmp_path / "src")
    processor.save_pretrained(tmp_path / "src")
    convert_checkpoint(tmp_path / "src", tmp_path / "next", to="llava_next")
    config = json.loads((tmp_path / "next" / "config.json").read_text())
    assert config["image_grid_pinpoints"] == [[64, 32]]  # width 64, height 32
    config["image_grid_pinpoints"] = [[32, 64]]  # LLaVA-NeXT: width 32, height 64, i.e. two rows of one tile
    (tmp_path / "next" / "config.json").write_text(json.dumps(config))
    reloaded = AutoModel.from_pretrained(tmp_path / "next")
    assert reloaded.config.image_grid_pinpoints == [[64, 32]]
