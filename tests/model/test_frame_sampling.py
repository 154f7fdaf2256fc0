"""One video frame sampler, LLaVA-NeXT's (`process_video_with_decord`), checked against hand-computed indices."""

import pytest
import torch

from mmreason.model import MMReasonImageProcessor
from mmreason.model.frame_sampling import sample_frame_indices
from mmreason.testing import make_image
from mmreason.train.collator import sample_frames


@pytest.mark.parametrize(
    ("num_frames", "max_frames", "expected"),
    [
        (100, 5, [0, 24, 49, 74, 99]),  # 99 * k / 4 = 0, 24.75, 49.5, 74.25, 99, truncated
        (11, 4, [0, 3, 6, 10]),  # 10 * k / 3 = 0, 3.33, 6.67, 10 (rounding would give 7)
        (10, 4, [0, 3, 6, 9]),
        (3, 32, [0, 1, 2]),  # under frames_upbound: every frame
        (7, 0, list(range(7))),  # frames_upbound 0: no cap
    ],
)
def test_uniform_cap(num_frames, max_frames, expected):
    assert sample_frame_indices(num_frames, max_frames) == expected


def test_video_fps_stride_then_cap():
    """10 s at 30 fps, video_fps 1: one frame per second (stride 30), under the cap. 100 s: 100 > 32, so 32
    frames over all 3000: 2999 * k / 31 = 0, 96.74, 193.48, ..., 2999."""
    assert sample_frame_indices(300, 32, fps=30, video_fps=1) == list(range(0, 300, 30))
    assert sample_frame_indices(60, 32, fps=25, video_fps=1) == [0, 25, 50]
    long = sample_frame_indices(3000, 32, fps=30, video_fps=1)
    assert len(long) == 32 and long[:4] == [0, 96, 193, 290] and long[-2:] == [2902, 2999]
    assert sample_frame_indices(5, 32, fps=0.5, video_fps=1) == list(range(5))  # stride at least 1
    with pytest.raises(ValueError, match="no frames"):
        sample_frame_indices(0, 32)


def test_processor_and_collator_keep_the_same_frames():
    """The image processor and the collator used to disagree by a frame (11 frames -> 4: [0, 3, 6, 10] vs 7)."""
    frames = [make_image(40, 30, seed=s) for s in range(11)]
    assert sample_frames(list(range(11)), 4) == [0, 3, 6, 10]
    processor = MMReasonImageProcessor(size={"height": 32, "width": 32}, max_frames=4)
    out = processor.preprocess_videos([frames], return_tensors="pt")["pixel_values_videos"]
    kept = processor.preprocess_videos([[frames[i] for i in (0, 3, 6, 10)]], return_tensors="pt")
    assert torch.equal(out, kept["pixel_values_videos"])
