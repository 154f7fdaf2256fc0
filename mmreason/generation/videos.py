"""Video parts of HF chat messages: frames as given, video files decoded with torchcodec."""

from __future__ import annotations

import os
from typing import Any

from ..model.frame_sampling import sample_frame_indices

#: frames kept from a decoded video file (LLaVA-NeXT's `frames_upbound` of the OneVision evals)
MAX_FRAMES = 32


def is_video_file(video: Any) -> bool:
    """Whether a video part's value is a path to a file (rather than frames)."""
    return isinstance(video, (str, os.PathLike))


def decode_video_file(path: str | os.PathLike, max_frames: int = MAX_FRAMES) -> list[Any]:
    """The frames LLaVA-NeXT keeps of a video file (`(H, W, C)` uint8 arrays), decoded with torchcodec."""
    try:
        from torchcodec.decoders import VideoDecoder
    except ImportError as error:
        raise ImportError(
            f"decoding the video file {path} needs torchcodec (`pip install torchcodec`); or pass its frames"
        ) from error
    decoder = VideoDecoder(str(path))
    indices = sample_frame_indices(int(decoder.metadata.num_frames), max_frames)
    return list(decoder.get_frames_at(indices=indices).data.permute(0, 2, 3, 1).numpy())


def decode_videos(conversation: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The conversation with every video part's file decoded to frames (frame lists are kept as they are)."""
    decoded = []
    for message in conversation:
        content = message["content"]
        if not isinstance(content, str):
            content = [
                {**part, "video": decode_video_file(part["video"])}
                if part.get("type") == "video" and is_video_file(part.get("video"))
                else part
                for part in content
            ]
        decoded.append({**message, "content": content})
    return decoded


__all__ = ["MAX_FRAMES", "decode_video_file", "decode_videos", "is_video_file"]
