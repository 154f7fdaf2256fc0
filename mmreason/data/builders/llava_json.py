"""Any LLaVA-format JSON array / JSONL (LLaVA-NeXT's `--data_path`) as a one-subset corpus.

`mmreason data prepare llava --source my_data.json --media_dirs images/ --out my_data_canonical` converts your own
LLaVA data (images from a folder or `.tar.gz`/`.zip` archives) the same way as the released corpora.
"""

from __future__ import annotations

import os
from pathlib import Path

from .base import CorpusBuilder, CorpusSpec, SubsetSpec, builder_configs


def llava_json_spec(source: str | os.PathLike, name: str = "default") -> tuple[CorpusSpec, Path]:
    """A spec with one subset for a LLaVA JSON/JSONL file (or every `*.json`, else `*.jsonl`, in a folder);
    returns it with the folder to use as `source`."""
    path = Path(source)
    folder, files = (path, ("*.json", "*.jsonl")) if path.is_dir() else (path.parent, (path.name,))
    spec = CorpusSpec(
        name="llava",
        repo_id=path.stem if path.is_file() else path.name,
        source_note="LLaVA-format JSON",
        subsets={name: SubsetSpec(name, files=files, description=f"converted from {', '.join(files)}.")},
    )
    return spec, folder


class LlavaJson(CorpusBuilder):
    """`datasets` builder over LLaVA JSON files: `LlavaJson(data_dir=folder_with_json, media_dirs=(...,))`."""

    SPEC = llava_json_spec(".")[0]
    BUILDER_CONFIGS = builder_configs(SPEC)


__all__ = ["LlavaJson", "llava_json_spec"]
