"""Multi-image samples and videos against numbers computed by the original LLaVA-NeXT code.

`fixtures/llava_next_multi_image_video.json` was produced once, outside this repository, by LLaVA-NeXT's own
training path (`process_image(f, "pad")`, its collator and `prepare_inputs_labels_for_multimodal`; `get_2dPool` and
the `one_token` video branch); its `how_produced` field says how. Each image of a multi-image sample is one padded
tile and one newline (730 tokens with SigLIP-so400m; lmms-eval's llava_onevision feeds them stacked and so gets 729,
without the newline: mmreason follows training); a video is `frames * ceil(side / 2)**2 + 1` tokens.
"""

import hashlib
import json
from pathlib import Path

import numpy as np
import PIL
import pytest
import torch

from mmreason.model import MMReasonForConditionalGeneration, MMReasonImageProcessor
from mmreason.model.anyres import multi_image_num_tokens, video_num_tokens, video_pooled_side
from mmreason.testing import build_tiny, tiny_config

from .test_anyres_golden import pattern

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "llava_next_multi_image_video.json").read_text())
SIDE = FIXTURE["tile_size"] // FIXTURE["patch_size"]
NEWLINE = torch.tensor([-1.0, 2.0], dtype=torch.float64)
FRAME_CASES = FIXTURE[
    "video_frame_pixel_cases" if int(PIL.__version__.split(".")[0]) >= 13 else "video_frame_pixel_cases_pillow_lt_13"
]


def _sums(flat: torch.Tensor) -> tuple[float, float, float]:
    weights = torch.arange(1, flat.numel() + 1, dtype=torch.float64)
    return float(flat.sum()), float((flat * flat).sum()), float((weights * flat).sum())


def _hashes(values: np.ndarray) -> list[str]:
    tiles = np.rint((values.astype(np.float64) * 0.5 + 0.5) * 255).astype(np.uint8)
    return [hashlib.sha256(np.ascontiguousarray(tile).tobytes()).hexdigest() for tile in tiles]


def _means(values: np.ndarray) -> list[list[float]]:
    return [[float(m) for m in tile.reshape(3, -1).mean(-1, dtype=np.float64)] for tile in values]


@pytest.fixture(scope="module")
def real_geometry():
    return build_tiny(real_geometry=True, vision_aspect_ratio="anyres_max_9", grid="(1x1),...,(6x6)")


def test_multi_image_token_counts(real_geometry):
    _, processor = real_geometry
    for case in FIXTURE["multi_image_cases"]:
        sizes = [(h, w) for w, h in case["sizes"]]
        assert [multi_image_num_tokens(SIDE)] * len(sizes) == case["tokens_per_image"]
        assert processor.count_image_tokens(sizes) == case["tokens_per_image"]
        images = [pattern(w, h) for w, h in case["sizes"]]
        inputs = processor(text="<image>" * len(images) + "\nCompare.", images=images, return_tensors="pt")
        assert int((inputs["input_ids"] == processor.image_token_id).sum()) == sum(case["tokens_per_image"])
    assert FIXTURE["lmms_eval_multi_image_tokens_per_image"] == SIDE * SIDE  # stacked: no newline (not followed)


@pytest.mark.parametrize("case", FIXTURE["multi_image_cases"], ids=lambda c: str(c["sizes"]))
def test_multi_image_tiles_are_llava_nexts_padded_tiles(case):
    values = MMReasonImageProcessor()([[pattern(w, h) for w, h in case["sizes"]]], return_tensors="np")
    tiles = values["pixel_values"][:, 0]  # one tile per image of the sample
    assert values["pixel_values"].shape[1] == 1
    for got, expected in zip(_means(tiles), case["tile_channel_means"]):
        assert got == pytest.approx(expected, abs=2e-6)
    assert _hashes(tiles) == case["tile_sha256"]


def test_multi_image_packing(real_geometry):
    model, _ = real_geometry
    for case in FIXTURE["multi_image_cases"]:
        n = len(case["sizes"])
        features = [((torch.arange(SIDE * SIDE * 2, dtype=torch.float64) + 7 * k) % 1009 / 1009).reshape(1, -1, 2)
                    for k in range(n)]  # fmt: skip
        sizes = torch.tensor([[h, w] for w, h in case["sizes"]])
        packed, lengths = model.model.pack_image_features(features, sizes, NEWLINE)
        assert lengths.tolist() == case["tokens_per_image"]
        expected = case["packed"]
        got = _sums(torch.cat(packed).flatten())
        assert got == pytest.approx((expected["sum"], expected["sum_sq"], expected["index_weighted_sum"]), rel=1e-9)


def _model_with_side(side: int) -> MMReasonForConditionalGeneration:
    config = tiny_config()
    config.vision_config.image_size, config.vision_config.patch_size = side * 8, 8
    return MMReasonForConditionalGeneration(config)


@pytest.mark.parametrize("case", FIXTURE["video_cases"], ids=lambda c: f"side{c['side']}-{c['num_frames']}f")
def test_video_counts_and_pooling(case):
    side, frames = case["side"], case["num_frames"]
    assert video_num_tokens(frames, side) == case["tokens"]
    assert [video_pooled_side(side)] * 2 == case["pooled_side"]
    features = (torch.arange(frames * side * side * 2, dtype=torch.float64) % 1009 / 1009).reshape(frames, -1, 2)
    pooled = _model_with_side(side).model.apply_pooling(features)  # the model's own pooling of video frames
    span = torch.cat((pooled.flatten(0, 1), NEWLINE[None]))  # all frames, then one newline (`one_token`)
    assert span.shape[0] == case["tokens"]
    assert _sums(span.flatten()) == pytest.approx((case["sum"], case["sum_sq"], case["index_weighted_sum"]), rel=1e-9)


def test_video_count_of_the_processor_and_a_forward_pass(real_geometry):
    model, processor = real_geometry
    for case in (c for c in FIXTURE["video_cases"] if c["side"] == SIDE):
        assert processor.count_video_tokens(case["num_frames"]) == case["tokens"]
    video = [pattern(64, 48)] * 3
    inputs = processor(text="<video>\nWhat happens?", videos=[video], return_tensors="pt")
    assert int((inputs["input_ids"] == processor.video_token_id).sum()) == video_num_tokens(3, SIDE)
    with torch.no_grad():
        assert model(**inputs).logits.shape[1] == inputs["input_ids"].shape[1]


@pytest.mark.parametrize("ref", FRAME_CASES, ids=lambda c: f"{c['width']}x{c['height']}")
def test_video_frames_are_llava_nexts_pixels(ref):
    values = MMReasonImageProcessor().preprocess_videos([[pattern(ref["width"], ref["height"])]], return_tensors="np")
    frame = values["pixel_values_videos"][0]
    assert _means(frame)[0] == pytest.approx(ref["frame_channel_means"], abs=2e-6)
    assert _hashes(frame) == [ref["frame_sha256"]]
