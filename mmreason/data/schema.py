"""mmreason's one row format, read by the SFT, preference, eval and demo code alike.

A row is a conversation in Hugging Face chat format plus its media, in placeholder order:

    {"id": "mammoth-si-000123",
     "source": "M4-Instruct-Data",          # where the sample comes from
     "category": "single_image",            # the corpus' own category, else the modality
     "quality_group": "",                   # a corpus-specific quality / filtering tag ("" when none)
     "messages": [
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What is x?"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "... Answer: 3"}]}],
     "images": [<image 1>],                 # filled into the {"type": "image"} parts in order
     "videos": []}                          # filled into the {"type": "video"} parts in order

* roles are `system`, `user`, `assistant`; the chat template renders an image part as `<image>\\n`, a video part as
  `<video>\\n`, so `[{"type": "image"}, {"type": "text", "text": "Q"}]` is LLaVA's `"<image>\\nQ"`;
* `images` is `List(Image())` (stored as embedded bytes plus the source-relative path), `videos` is
  `List(Video())` (decoding needs `torchcodec`; rows without videos never touch it);
* TRL's `SFTTrainer` takes these rows as they are (`messages` + `images`).
"""

from __future__ import annotations

from typing import Any

ROLES = ("system", "user", "assistant")
MODALITIES = ("text", "single_image", "multi_image", "video")
METADATA_COLUMNS = ("id", "source", "category", "quality_group")


def row_features(with_videos: bool = True) -> Any:
    """The `datasets.Features` of a canonical row (`videos` is optional for image-only corpora)."""
    import datasets  # imported here: the streaming readers use this module without `datasets`

    part = {"type": datasets.Value("string"), "text": datasets.Value("string")}
    features = {name: datasets.Value("string") for name in METADATA_COLUMNS}
    features["messages"] = datasets.List({"role": datasets.Value("string"), "content": datasets.List(part)})
    features["images"] = datasets.List(datasets.Image())
    if with_videos:
        features["videos"] = datasets.List(datasets.Video())
    return datasets.Features(features)


def __getattr__(name: str) -> Any:  # `FEATURES` is built on first use (PEP 562)
    if name == "FEATURES":
        globals()["FEATURES"] = row_features()
        return globals()["FEATURES"]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def count_parts(messages: list[dict[str, Any]], part_type: str) -> int:
    """How many content parts of `part_type` ("image"/"video") the conversation has."""
    return sum(
        1
        for message in messages
        if not isinstance(message["content"], str)
        for part in message["content"]
        if part["type"] == part_type
    )


def modality(num_images: int, num_videos: int) -> str:
    """The modality category of a row: `text`, `single_image`, `multi_image` or `video`."""
    if num_videos:
        return "video"
    if num_images > 1:
        return "multi_image"
    return "single_image" if num_images else "text"


def message_text(message: dict[str, Any]) -> str:
    """The text of a message with its placeholders written inline (`<image>\\n` / `<video>\\n`)."""
    content = message["content"]
    if isinstance(content, str):
        return content
    pieces = {"image": "<image>\n", "video": "<video>\n"}
    return "".join(
        part.get("text") or "" if part["type"] == "text" else pieces.get(part["type"], "") for part in content
    )


__all__ = [  # plus FEATURES, built lazily by __getattr__
    "METADATA_COLUMNS",
    "MODALITIES",
    "ROLES",
    "count_parts",
    "message_text",
    "modality",
    "row_features",
]
