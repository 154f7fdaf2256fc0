"""The one video frame sampler: LLaVA-NeXT's (`llava/utils.py::process_video_with_decord`, `frames_upbound`).

LLaVA-NeXT first takes one frame per `1 / video_fps` seconds (`range(0, total, round(fps / video_fps))`); when
that gives more than `frames_upbound` frames it samples `np.linspace(0, total - 1, frames_upbound, dtype=int)`
over all frames instead (truncating, not rounding, the positions). [`sample_frame_indices`] is that rule; both the
image processor (`preprocess_videos`) and the SFT collator (decoded video files) call it.
"""

from __future__ import annotations

import numpy as np


def sample_frame_indices(
    num_frames: int, max_frames: int, fps: float | None = None, video_fps: float | None = None
) -> list[int]:
    """Indices of the frames LLaVA-NeXT keeps from a video of `num_frames` frames.

    Args:
        num_frames: frames in the video.
        max_frames: LLaVA-NeXT's `frames_upbound`; `0` or less: no cap.
        fps: the video's frame rate, if known; with `video_fps` it sets the stride `round(fps / video_fps)`
            (at least 1). Without either, every frame is a candidate (frames given as a list).
        video_fps: LLaVA-NeXT's `video_fps` (frames per second to take before the cap; its default is 1).
    """
    if num_frames < 1:
        raise ValueError("A video has no frames.")
    stride = max(1, round(fps / video_fps)) if fps and video_fps else 1
    indices = list(range(0, num_frames, stride))
    if 0 < max_frames < len(indices):
        indices = np.linspace(0, num_frames - 1, max_frames, dtype=int).tolist()
    return indices


__all__ = ["sample_frame_indices"]
