"""The vLLM plugin package (`integrations/vllm/`) without vLLM: its geometry is a byte-identical copy of mmreason's,
and its token counts equal the original LLaVA-NeXT code's (the golden fixture) and mmreason's processor."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest
import tomllib

from mmreason.model.anyres import select_best_resolution
from mmreason.testing import build_tiny, make_image

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "integrations" / "vllm"
FIXTURE = json.loads((ROOT / "tests" / "model" / "fixtures" / "anyres_llava_next.json").read_text())


@pytest.fixture(scope="module")
def geometry():
    """`mmreason_vllm.geometry` imported from the plugin's folder (the plugin is not installed here)."""
    sys.path.insert(0, str(PLUGIN))
    try:
        spec = importlib.util.find_spec("mmreason_vllm.geometry")
        assert spec is not None and str(PLUGIN) in spec.origin
        yield importlib.import_module("mmreason_vllm.geometry")
    finally:
        sys.path.remove(str(PLUGIN))


def test_the_plugins_geometry_is_mmreasons_byte_for_byte():
    assert (PLUGIN / "mmreason_vllm" / "anyres.py").read_bytes() == (ROOT / "mmreason/model/anyres.py").read_bytes()


def test_the_package_is_a_vllm_plugin_that_needs_no_mmreason():
    project = tomllib.loads((PLUGIN / "pyproject.toml").read_text())
    assert project["project"]["entry-points"]["vllm.general_plugins"] == {"mmreason": "mmreason_vllm.plugin:register"}
    imports = re.compile(r"^\s*(?:from|import)\s+mmreason(?:\.|\s|$)", re.MULTILINE)
    for path in (PLUGIN / "mmreason_vllm").glob("*.py"):
        assert not imports.search(path.read_text()), path.name


def test_max_tiles(geometry):
    assert geometry.max_tiles("anyres_max_4") == 4 and geometry.max_tiles("anyres_max_9") == 9
    assert geometry.max_tiles("anyres") is None and geometry.max_tiles(None) is None
    for bad in ("anyres_max_0", "anyres_max_x", "pad", "square"):
        with pytest.raises(ValueError):
            geometry.max_tiles(bad)


@pytest.mark.parametrize("ratio", ["anyres_max_4", "anyres_max_9"])
def test_token_counts_equal_the_original_llava_next_code(geometry, ratio):
    side = FIXTURE["tile_size"] // FIXTURE["patch_size"]
    for case in FIXTURE["cases"]:
        grid = (case["grid"]["rows"], case["grid"]["cols"])
        _, unpadded, down = geometry.image_grid_features((case["height"], case["width"]), grid, side,
                                                         geometry.max_tiles(ratio))  # fmt: skip
        expected = case[ratio]
        assert unpadded == (expected["unpadded"]["height"], expected["unpadded"]["width"]), case
        assert side * side + down[0] * (down[1] + 1) == expected["num_image_tokens"], (case["width"], case["height"])


@pytest.mark.parametrize("ratio", ["anyres_max_4", "anyres_max_9"])
def test_token_counts_equal_mmreasons_processor(geometry, ratio):
    model, processor = build_tiny(real_geometry=True, vision_aspect_ratio=ratio)
    vision = model.config.vision_config
    tile, side = vision.image_size, vision.image_size // vision.patch_size
    pinpoints = model.config.image_grid_pinpoints
    image_token = processor.tokenizer.convert_tokens_to_ids("<image>")
    for width, height in [(200, 160), (47, 423), (1920, 1080), (423, 47), (384, 384), (1153, 944), (3000, 200)]:
        inputs = processor(images=[make_image(width, height)], text="<image>\nWhat is shown?", return_tensors="pt")
        count = int((inputs["input_ids"] == image_token).sum())
        resolution = select_best_resolution((height, width), pinpoints)
        grid = (resolution[0] // tile, resolution[1] // tile)
        _, _, down = geometry.image_grid_features((height, width), grid, side, geometry.max_tiles(ratio))
        assert side * side + down[0] * (down[1] + 1) == count, (width, height)


MULTI = json.loads((ROOT / "tests" / "model" / "fixtures" / "llava_next_multi_image_video.json").read_text())


@pytest.fixture(scope="module")
def plugin_modules(geometry):
    """The plugin's `anyres` (token counts) and `multi_image` (padded tiles) modules, from its folder."""
    sys.path.insert(0, str(PLUGIN))
    try:
        yield importlib.import_module("mmreason_vllm.anyres"), importlib.import_module("mmreason_vllm.multi_image")
    finally:
        sys.path.remove(str(PLUGIN))


def test_unpad_rule_of_a_config(geometry):
    class Config:
        pass

    config = Config()
    assert geometry.unpad_rule(config) == "truncate"  # no field: LLaVA-NeXT's rule, as mmreason reads such folders
    config.image_unpad_rule = "round"
    assert geometry.unpad_rule(config) == "round"
    config.image_unpad_rule = "floor"
    with pytest.raises(ValueError, match="unpad rule"):
        geometry.unpad_rule(config)


def test_round_rule_counts_equal_mmreasons_processor(geometry):
    _, processor = build_tiny(real_geometry=True, vision_aspect_ratio="anyres_max_4", image_unpad_rule="round")
    pinpoints = processor.image_processor.image_grid_pinpoints
    for width, height in [(47, 423), (423, 47), (1153, 944)]:
        resolution = select_best_resolution((height, width), pinpoints)
        _, _, down = geometry.image_grid_features((height, width), (resolution[0] // 384, resolution[1] // 384), 27,
                                                  4, "round")  # fmt: skip
        assert 729 + down[0] * (down[1] + 1) == processor._get_number_of_features(height, width, 384, 384)


def test_multi_image_and_video_counts_equal_the_original_code(plugin_modules):
    anyres, _ = plugin_modules
    side = MULTI["tile_size"] // MULTI["patch_size"]
    for case in MULTI["multi_image_cases"]:
        assert [anyres.multi_image_num_tokens(side)] * len(case["sizes"]) == case["tokens_per_image"]
    for case in MULTI["video_cases"]:
        assert anyres.video_num_tokens(case["num_frames"], case["side"]) == case["tokens"]


def test_multi_image_tiles_equal_the_original_code(plugin_modules):
    """The plugin's padded tiles (what it feeds vLLM for prompts with several images) are LLaVA-NeXT's pixels."""
    import hashlib

    import numpy as np

    from tests.model.test_anyres_golden import pattern

    _, multi_image = plugin_modules
    for case in MULTI["multi_image_cases"]:
        images = [pattern(w, h) for w, h in case["sizes"]]
        pixels, sizes = multi_image.multi_image_pixels(images, 384, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
        assert pixels.shape == (len(images), 1, 3, 384, 384) and pixels.dtype == np.float32
        assert sizes.tolist() == [[h, w] for w, h in case["sizes"]]
        tiles = np.rint((pixels[:, 0].astype(np.float64) * 0.5 + 0.5) * 255).astype(np.uint8)
        assert [hashlib.sha256(np.ascontiguousarray(t).tobytes()).hexdigest() for t in tiles] == case["tile_sha256"]
    array = np.asarray(images[0])  # an HWC array, as vLLM may hold it, gives the same tile
    assert np.array_equal(multi_image.padded_tile(array, 384, (0.5,) * 3, (0.5,) * 3), pixels[0, 0])
