"""VisualWebInstruct (`TIGER-Lab/VisualWebInstruct`): ~900K web-mined science QA pairs, 40% visual.

Hub layout: `images.zip` (members under `imgs/`), `visualwebinstruct_qa.jsonl` (`image` list, `question`,
`answer`, `idx`), `visualwebinstruct_conversation.jsonl|.parquet` and `mixed_conversation.jsonl|.parquet`
(LLaVA conversations; mixed = VisualWebInstruct + LLaVA-CoT at 9:1, what MAmmoTH-VL2 trains on), `data/train-*.parquet`
(the `example` subset, images embedded). Older revisions named the files `qa_visualwebinstruct.jsonl`,
`conversation_visualwebinstruct.jsonl`, `conversation_mixed.jsonl`.

Subsets follow the Hub viewer: `conversation` (mixed), `visualwebinstruct` (the QA pairs), `example`; plus
`visualwebinstruct_conversation`.
"""

from __future__ import annotations

from typing import Any

from ..llava import RecordError, llava_to_canonical, split_placeholders
from ..schema import modality
from .base import CorpusBuilder, CorpusSpec, SubsetSpec, builder_configs

_MEDIA = ("images.zip", "imgs", "imgs.tar.gz")


def _source_of(path: str) -> str:
    parts = path.split("/")
    if parts[0] == "imgs" and len(parts) > 2:
        parts = parts[1:]
    return parts[0] if len(parts) > 1 else "visualwebinstruct"


def qa_to_canonical(record: dict[str, Any], default_id: str | None = None) -> dict[str, Any]:
    """A QA record (`image` path list or embedded images, `question`, `answer`, `idx`) as a canonical row: the
    images go first in the user turn (LLaVA's `<image>\\n` prefix) unless the question places them itself."""
    if not isinstance(record, dict):
        raise RecordError("malformed", "expected a JSON object", default_id)
    record_id = str(record.get("idx", record.get("id", default_id)))
    question, answer = record.get("question"), record.get("answer")
    if not isinstance(question, str) or not isinstance(answer, str):
        raise RecordError("malformed", "`question` and `answer` must be strings", record_id)
    images = record.get("image") or record.get("images") or []
    images = [images] if isinstance(images, str | dict) else list(images)
    user = split_placeholders(question)
    if not any(part["type"] == "image" for part in user):
        user = [{"type": "image"} for _ in images] + user
    first = images[0] if images else None
    first_path = first.get("path") if isinstance(first, dict) else first
    return {
        "id": record_id,
        "source": _source_of(first_path) if first_path else "visualwebinstruct",
        "category": str(record.get("category") or modality(len(images), 0)),
        "quality_group": "",
        "messages": [{"role": "user", "content": user}, {"role": "assistant", "content": split_placeholders(answer)}],
        "images": images,
        "videos": [],
    }


def conversation_to_canonical(record: dict[str, Any], default_id: str | None = None) -> dict[str, Any]:
    """A LLaVA conversation record, with `source` taken below the zip's `imgs/` folder."""
    row = llava_to_canonical(record, default_id, default_source="visualwebinstruct")
    if row["images"] and not (record.get("source") or record.get("data_source")):
        row["source"] = _source_of(row["images"][0])
    return row


VISUALWEBINSTRUCT = CorpusSpec(
    name="visualwebinstruct",
    repo_id="TIGER-Lab/VisualWebInstruct",
    homepage="https://tiger-ai-lab.github.io/VisualWebInstruct/",
    license="apache-2.0",
    description="VisualWebInstruct: multimodal instruction data mined from the web (math, physics, finance, ...).",
    citation=(
        "@article{jia2025visualwebinstruct,\n  title={VisualWebInstruct: Scaling up Multimodal Instruction Data"
        " through Web Search},\n  author={Jia, Yiming and others},\n  journal={arXiv preprint arXiv:2503.10582},\n"
        "  year={2025}\n}"
    ),
    source_note="the original JSONL/Parquet files and `images.zip`",
    subsets={
        "conversation": SubsetSpec(
            "conversation",
            files=("mixed_conversation.jsonl", "mixed_conversation.parquet", "conversation_mixed.jsonl"),
            media=_MEDIA,
            convert=conversation_to_canonical,
            description="VisualWebInstruct + LLaVA-CoT conversations (9:1), the MAmmoTH-VL2 training mix.",
        ),
        "visualwebinstruct": SubsetSpec(
            "visualwebinstruct",
            files=("visualwebinstruct_qa.jsonl", "qa_visualwebinstruct.jsonl"),
            media=_MEDIA,
            convert=qa_to_canonical,
            description="The web-mined QA pairs.",
        ),
        "visualwebinstruct_conversation": SubsetSpec(
            "visualwebinstruct_conversation",
            files=(
                "visualwebinstruct_conversation.jsonl",
                "visualwebinstruct_conversation.parquet",
                "conversation_visualwebinstruct.jsonl",
            ),
            media=_MEDIA,
            convert=conversation_to_canonical,
            description="The web-mined QA pairs as conversations.",
        ),
        "example": SubsetSpec(
            "example",
            files=("data/train-*.parquet",),
            convert=qa_to_canonical,
            description="A small example subset (images embedded).",
        ),
    },
)


class VisualWebInstruct(CorpusBuilder):
    """`datasets` builder for VisualWebInstruct; configs as on the Hub, `data_dir` = the raw corpus."""

    SPEC = VISUALWEBINSTRUCT
    BUILDER_CONFIGS = builder_configs(VISUALWEBINSTRUCT)
    DEFAULT_CONFIG_NAME = "conversation"


__all__ = ["VISUALWEBINSTRUCT", "VisualWebInstruct", "conversation_to_canonical", "qa_to_canonical"]
