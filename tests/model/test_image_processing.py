"""MMReasonImageProcessor: pixel equality with transformers' PIL backend, inputs, and clear errors."""

import io
import re

import numpy as np
import pytest
import torch
from PIL import Image

from mmreason.model import CorruptImageError, ImageTooLargeError, MMReasonImageProcessor, UnsupportedImageModeError
from mmreason.testing import make_image

from .stock import stock_processor


@pytest.fixture(scope="module")
def ours():
    return MMReasonImageProcessor()  # 384 px tiles, (1x1)..(6x6) grid, SigLIP mean/std


@pytest.fixture(scope="module")
def stock(ours):
    from transformers import LlavaOnevisionImageProcessorPil

    return LlavaOnevisionImageProcessorPil(
        image_mean=list(ours.image_mean),
        image_std=list(ours.image_std),
        image_grid_pinpoints=ours.image_grid_pinpoints,
    )


def _same(a, b):
    assert a["pixel_values"].shape == b["pixel_values"].shape
    assert torch.allclose(a["pixel_values"], b["pixel_values"], atol=1e-5, rtol=0)
    assert torch.equal(a["image_sizes"], b["image_sizes"])
    assert torch.equal(a["batch_num_images"], b["batch_num_images"])


@pytest.mark.parametrize("size", [(1000, 600), (600, 1000), (2000, 300), (90, 60), (384, 384), (1, 1)])
def test_anyres_pixels_equal_stock(ours, stock, size):
    image = make_image(*size, seed=sum(size))
    _same(ours(image, return_tensors="pt"), stock(image, return_tensors="pt"))


def test_batch_of_single_and_multi_image_samples_equal_stock(ours, stock):
    batch = [[make_image(700, 300, 1)], [make_image(300, 500, 2), make_image(120, 80, 3)], []]
    ours_out, stock_out = ours(batch, return_tensors="pt"), stock(batch, return_tensors="pt")
    _same(ours_out, stock_out)
    assert ours_out["batch_num_images"].tolist() == [1, 2]
    assert ours_out["pixel_values"].shape[1] > 1  # padded to the anyres sample's tile count


@pytest.mark.parametrize("mode", ["RGBA", "LA", "L", "P", "CMYK", "1"])
def test_modes_equal_stock(ours, stock, mode):
    image = make_image(500, 300, seed=4).convert(mode)
    if mode in ("RGBA", "LA"):
        alpha = Image.linear_gradient("L").resize(image.size)
        image.putalpha(alpha)
    _same(ours(image, return_tensors="pt"), stock(image, return_tensors="pt"))


def test_array_inputs(ours, stock):
    image = make_image(300, 200, seed=5)
    hwc = np.array(image)
    expected = ours(image, return_tensors="pt")["pixel_values"]
    assert torch.equal(ours(hwc, return_tensors="pt")["pixel_values"], expected)
    assert torch.equal(ours(torch.from_numpy(hwc).permute(2, 0, 1), return_tensors="pt")["pixel_values"], expected)
    floats = hwc.astype(np.float32) / 255  # not exactly representable as uint8: the stock code path
    _same(ours(floats, return_tensors="pt"), stock(floats, return_tensors="pt"))


def test_paths_bytes_and_dataset_dicts(ours, tmp_path):
    image = make_image(200, 120, seed=6)
    path = tmp_path / "x.png"
    image.save(path)
    expected = ours(image, return_tensors="pt")["pixel_values"]
    for source in (str(path), path.read_bytes(), {"bytes": None, "path": str(path)}, {"bytes": path.read_bytes()}):
        assert torch.equal(ours(source, return_tensors="pt")["pixel_values"], expected)


def test_corrupt_and_missing_files(ours, tmp_path):
    truncated = tmp_path / "truncated.jpg"
    buffer = io.BytesIO()
    make_image(300, 300).save(buffer, format="JPEG")
    truncated.write_bytes(buffer.getvalue()[:400])
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("definitely not a PNG")
    for bad in (truncated, not_an_image, tmp_path / "missing.jpg"):
        with pytest.raises(CorruptImageError, match=re.escape(bad.name)) as info:
            ours(str(bad))
        assert info.value.source == str(bad)


def test_decompression_bomb_is_refused_before_decoding(tmp_path):
    processor = MMReasonImageProcessor(max_image_pixels=10_000)
    big = tmp_path / "big.png"
    make_image(200, 100).save(big)
    with pytest.raises(ImageTooLargeError, match="20,000 pixels"):
        processor(str(big))
    with pytest.raises(ImageTooLargeError):
        processor(make_image(200, 100))
    processor(make_image(100, 100))  # at the limit: fine


def test_unsupported_modes_are_refused(ours):
    depth = Image.new("I;16", (100, 80))
    with pytest.raises(UnsupportedImageModeError, match="I;16"):
        ours(depth)
    with pytest.raises(UnsupportedImageModeError, match="'F'"):
        ours(Image.new("F", (20, 20)))


def test_videos_sample_frames_uniformly():
    processor = MMReasonImageProcessor(size={"height": 32, "width": 32}, max_frames=4)
    frames = [make_image(40, 30, seed=s) for s in range(10)]
    out = processor.preprocess_videos([frames], return_tensors="pt")["pixel_values_videos"]
    assert out.shape == (1, 4, 3, 32, 32)
    kept = processor.preprocess_videos([[frames[i] for i in (0, 3, 6, 9)]], return_tensors="pt")
    assert torch.equal(out, kept["pixel_values_videos"])
    with pytest.raises(ValueError, match="different frame counts"):
        processor.preprocess_videos([frames[:2], frames[:3]])


def test_stock_processor_helper_is_consistent(tiny):
    # guard for the reference used across the suite: the stock pipeline sees the same image settings
    _, processor = tiny
    assert (
        stock_processor(processor).image_processor.image_grid_pinpoints
        == processor.image_processor.image_grid_pinpoints
    )


def test_base64_data_uri_and_exif_orientation(ours, stock, tmp_path):
    import base64

    image = make_image(120, 40, seed=8)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    encoded = base64.b64encode(buffer.getvalue()).decode()
    expected = ours(image, return_tensors="pt")["pixel_values"]
    assert torch.equal(ours(encoded, return_tensors="pt")["pixel_values"], expected)
    assert torch.equal(ours(f"data:image/png;base64,{encoded}", return_tensors="pt")["pixel_values"], expected)

    rotated = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 CW to display
    make_image(300, 100, seed=9).save(rotated, exif=exif)
    out = ours(str(rotated), return_tensors="pt")
    assert out["image_sizes"].tolist() == [[300, 100]]  # displayed upright, as transformers' load_image does
    from transformers.image_utils import load_image

    _same(out, stock(load_image(str(rotated)), return_tensors="pt"))


def test_ambiguous_channel_layout_follows_stock(ours, stock):
    thin = np.array(make_image(1, 500, seed=10)).transpose(2, 0, 1)  # CHW (3, 500, 1): width 1 looks like channels
    _same(ours(thin, return_tensors="pt"), stock(thin, return_tensors="pt"))
    explicit = ours(thin, input_data_format="channels_first", return_tensors="pt")
    assert explicit["image_sizes"].tolist() == [[500, 1]]


def test_limit_can_be_raised_above_pillows_default(tmp_path):
    big = tmp_path / "big.png"
    Image.new("RGB", (10_000, 9_500)).save(big)  # 95M pixels: Pillow warns, our limit decides
    with pytest.raises(ImageTooLargeError):
        MMReasonImageProcessor()(str(big))
    MMReasonImageProcessor(
        max_image_pixels=100_000_000, size={"height": 32, "width": 32}, image_grid_pinpoints=[[32, 32]]
    )(str(big))
