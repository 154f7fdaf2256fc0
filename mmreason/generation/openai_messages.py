"""HF chat messages → OpenAI chat messages, images as PNG data URIs, video files as data URIs (vLLM's
`video_url` parts)."""

from __future__ import annotations

import base64
import io
import mimetypes
from pathlib import Path
from typing import Any

from ..model.image_io import load_rgb
from .errors import UnsupportedRequest
from .videos import is_video_file


def image_data_uri(image: Any) -> str:
    """A PNG data URI for an image given as PIL, bytes, a path or a `datasets` dict."""
    rgb = load_rgb(image)
    buffer = io.BytesIO()
    rgb.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def video_data_uri(video: Any) -> str:
    """A data URI of a video file (a server decodes it itself); frames cannot be sent as a video."""
    if not is_video_file(video):
        raise UnsupportedRequest(
            "an OpenAI-compatible server takes videos as files: give the video part a path, not decoded frames"
        )
    mime = mimetypes.guess_type(str(video))[0] or "video/mp4"
    return f"data:{mime};base64," + base64.b64encode(Path(video).read_bytes()).decode()


def to_openai_messages(conversation: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """HF chat messages → OpenAI chat messages (`image_url` / `video_url` parts with data URIs)."""
    messages = []
    for message in conversation:
        content = message["content"]
        if isinstance(content, str):
            messages.append({"role": message["role"], "content": content})
            continue
        parts = []
        for part in content:
            if part["type"] == "image":
                parts.append({"type": "image_url", "image_url": {"url": image_data_uri(part["image"])}})
            elif part["type"] == "video":
                parts.append({"type": "video_url", "video_url": {"url": video_data_uri(part["video"])}})
            elif part["type"] == "text":
                parts.append({"type": "text", "text": part.get("text") or ""})
        messages.append({"role": message["role"], "content": parts})
    return messages


__all__ = ["image_data_uri", "to_openai_messages", "video_data_uri"]
