"""Anyres geometry, token counts, feature packing and pixels against numbers computed by the original LLaVA-NeXT code.

`fixtures/anyres_llava_next.json` was produced once, outside this repository, by LLaVA-NeXT's own functions (its
`how_produced` field says which and how). Nothing here calls transformers' anyres helpers, so these tests do not
move when transformers does (transformers 5.23 letterboxed non-square images transposed; 5.24 rounds the unpad
scale, e.g. 1161 instead of 1053 tokens for a 47x423 image).
"""

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import PIL
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from mmreason.model import MMReasonImageProcessor
from mmreason.model.anyres import anyres_layout, select_best_resolution, tile_boxes
from mmreason.model.configuration_mmreason import parse_grid_pinpoints
from mmreason.testing import build_tiny

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "anyres_llava_next.json").read_text())
CASES = FIXTURE["cases"]
PINPOINTS = parse_grid_pinpoints(FIXTURE["grid_pinpoints"], FIXTURE["tile_size"])
TILE, SIDE = FIXTURE["tile_size"], FIXTURE["tile_size"] // FIXTURE["patch_size"]
RATIOS = {"anyres_max_4": 4, "anyres_max_9": 9}


def _hw(d: dict) -> tuple[int, int]:
    return d["height"], d["width"]


def _id(case: dict) -> str:
    return f"{case['width']}x{case['height']}"


def pattern(width: int, height: int) -> Image.Image:
    """The fixture's test image: R=(3x+5y)%256, G=(x*y)%256, B=(x^y)%256 (x = column, y = row)."""
    y, x = np.ogrid[0:height, 0:width]
    channels = [(3 * x + 5 * y) % 256, (x * y) % 256, (x ^ y) % 256]
    return Image.fromarray(np.stack(np.broadcast_arrays(*channels), axis=-1).astype(np.uint8))


@pytest.fixture(scope="module", params=sorted(RATIOS))
def real_geometry(request):
    """Tiny model with SigLIP-so400m's geometry (384 px tiles, patch 14) and the fixture's (1x1)..(6x6) grid."""
    model, processor = build_tiny(
        real_geometry=True, vision_aspect_ratio=request.param, grid=FIXTURE["grid_pinpoints"]
    )
    return request.param, model, processor


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_geometry_matches_llava_next(case):
    for ratio, n in RATIOS.items():
        layout = anyres_layout((case["height"], case["width"]), PINPOINTS, TILE, SIDE, n)
        expected = case[ratio]
        assert layout.resolution == _hw(case["best_resolution"])
        assert layout.resized == _hw(case["resized"])
        assert layout.offset == (case["offset"]["top"], case["offset"]["left"])
        assert layout.grid == (case["grid"]["rows"], case["grid"]["cols"])
        assert [list(box) for box in layout.tile_boxes] == case["tile_boxes"]
        assert layout.feature_map == _hw(expected["feature_map"])
        assert layout.unpadded == _hw(expected["unpadded"])
        assert layout.downsampled == _hw(expected["downsampled"])
        assert layout.num_tokens == expected["num_image_tokens"]


def test_processor_token_counts_match_llava_next(real_geometry):
    """Real `input_ids` from the processor: one `<image>` run of LLaVA-NeXT's length, and its tile count."""
    ratio, _, processor = real_geometry
    for case in CASES:
        image = Image.new("RGB", (case["width"], case["height"]), (90, 160, 30))  # counts depend on the size only
        out = processor(text="Look: <image>\nWhat is it?", images=[image], return_tensors="pt")
        tokens = int((out["input_ids"] == processor.image_token_id).sum())
        assert tokens == case[ratio]["num_image_tokens"], _id(case)
        assert out["pixel_values"].shape[1] == 1 + case["grid"]["rows"] * case["grid"]["cols"], _id(case)
        assert processor.count_image_tokens([(case["height"], case["width"])]) == [tokens]


def _packed_tiles(n: int) -> torch.Tensor:
    return (torch.arange(n * SIDE * SIDE * 2, dtype=torch.float64) % 1009 / 1009).reshape(n, SIDE * SIDE, 2)


def test_model_packing_matches_llava_next(real_geometry):
    """`MMReasonModel.pack_image_features` (unpad crop, anyres_max downsampling, newlines) on LLaVA-NeXT's inputs."""
    ratio, model, _ = real_geometry
    backbone = model.model
    for case in CASES:  # feature counts for every size
        n = 1 + case["grid"]["rows"] * case["grid"]["cols"]
        feats, lengths = backbone.pack_image_features(
            [torch.zeros(n, SIDE * SIDE, 2)], torch.tensor([[case["height"], case["width"]]]), torch.zeros(2), ratio
        )
        assert feats[0].shape[0] == lengths[0] == case[ratio]["num_image_tokens"], _id(case)
    newline = torch.tensor([-1.0, 2.0], dtype=torch.float64)
    for ref in (c for c in FIXTURE["packed_cases"] if c["aspect_ratio"] == ratio):  # and the values themselves
        n = 1 + math.prod(anyres_layout((ref["height"], ref["width"]), PINPOINTS, TILE, SIDE, 1).grid)
        feats, _ = backbone.pack_image_features(
            [_packed_tiles(n)], torch.tensor([[ref["height"], ref["width"]]]), newline, ratio
        )
        flat = feats[0].flatten()
        weights = torch.arange(1, flat.numel() + 1, dtype=torch.float64)
        assert list(feats[0].shape) == ref["shape"]
        got = (float(flat.sum()), float((flat * flat).sum()), float((weights * flat).sum()))
        assert got == pytest.approx((ref["sum"], ref["sum_sq"], ref["index_weighted_sum"]), rel=1e-9)


def test_model_features_and_forward_agree_with_the_processor():
    """The vision tower -> projector -> packing path yields LLaVA-NeXT's count on sizes where transformers' rounding
    differs (47x423 and its transpose), and a forward pass accepts the processor's placeholders."""
    model, processor = build_tiny(
        real_geometry=True, vision_aspect_ratio="anyres_max_9", grid=FIXTURE["grid_pinpoints"]
    )
    for width, height in ((47, 423), (423, 47)):
        case = next(c for c in CASES if (c["width"], c["height"]) == (width, height))
        inputs = processor(text="<image>\nDescribe.", images=[pattern(width, height)], return_tensors="pt")
        with torch.no_grad():
            features = model.model.get_image_features(
                inputs["pixel_values"], inputs["image_sizes"], batch_num_images=inputs["batch_num_images"]
            ).pooler_output
            assert [f.shape[0] for f in features] == [case["anyres_max_9"]["num_image_tokens"]]
            logits = model(**inputs).logits  # raises if the placeholder count differs from the features
        assert logits.shape[1] == inputs["input_ids"].shape[1]


# Pillow 13 changed its bicubic resampling by one level on some pixels (11.x-12.x agree): LLaVA-NeXT's output was
# recorded under both, and the test takes the one of the installed Pillow (CI runs Pillow 11.0 and the newest).
PIXEL_CASES = FIXTURE["pixel_cases" if int(PIL.__version__.split(".")[0]) >= 13 else "pixel_cases_pillow_lt_13"]


@pytest.mark.parametrize("ref", PIXEL_CASES, ids=_id)
def test_pixels_match_llava_next(ref):
    """Every tile (whole image + letterboxed grid) is LLaVA-NeXT's `process_anyres_image` output, exactly."""
    processor = MMReasonImageProcessor()  # SigLIP mean/std, 384 px tiles, (1x1)..(6x6)
    assert processor.image_grid_pinpoints == PINPOINTS
    values = processor(pattern(ref["width"], ref["height"]), return_tensors="np")["pixel_values"][0]
    assert len(values) == ref["num_tiles"]
    means = [[float(m) for m in tile.reshape(3, -1).mean(-1, dtype=np.float64)] for tile in values]
    for i, (got, expected) in enumerate(zip(means, ref["tile_channel_means"])):
        assert got == pytest.approx(expected, abs=2e-6), f"tile {i}"
    tiles = np.rint((values.astype(np.float64) * 0.5 + 0.5) * 255).astype(np.uint8)
    hashes = [hashlib.sha256(np.ascontiguousarray(tile).tobytes()).hexdigest() for tile in tiles]
    assert hashes == ref["tile_sha256"]


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 6000), st.integers(1, 6000))
def test_layout_invariants(height, width):
    """For any size: the resized image fits its pinpoint and keeps the aspect ratio to a pixel, it is centred, the
    tiles cover the canvas exactly, and the unpad crop keeps a centred part of the feature map."""
    layout = anyres_layout((height, width), PINPOINTS, TILE, SIDE, 4)
    (res_h, res_w), (new_h, new_w), (top, left) = layout.resolution, layout.resized, layout.offset
    assert [res_h, res_w] in PINPOINTS and layout.resolution == select_best_resolution((height, width), PINPOINTS)
    assert (new_h == res_h and new_w <= res_w) or (new_w == res_w and new_h <= res_h)
    assert abs(new_w * height - new_h * width) <= max(height, width)  # aspect kept up to the ceil
    assert top == (res_h - new_h) // 2 and left == (res_w - new_w) // 2
    boxes = tile_boxes(layout.resolution, TILE)
    assert len(boxes) == layout.grid[0] * layout.grid[1]
    assert sum((x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in boxes) == res_h * res_w
    (fh, fw), (uh, uw) = layout.feature_map, layout.unpadded
    assert 0 < uh <= fh and 0 < uw <= fw and (uh == fh or uw == fw) and (fh - uh) % 2 == 0 and (fw - uw) % 2 == 0
    assert layout.num_tokens == SIDE * SIDE + layout.downsampled[0] * (layout.downsampled[1] + 1)
