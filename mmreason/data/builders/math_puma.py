"""Math-PUMA's released Stage-2 pair JSON into PUMA pair rows.

`Math-PUMA/Math-PUMA_Data_Stage2` ships folders such as `Synthesis/{train.json, images.tar.gz}`; each record is

    {"image_url": "images/q1_text.png" or "", "instruction": "...", "output": "...",
     "image_url_2": "images/q1_vision.png", "instruction_2": "...", "output_2": "..."}

`(image_url, instruction, output)` is the text-rich (teacher) side, an empty `image_url` a text-only side;
`(image_url_2, instruction_2, output_2)` the vision-rich (student) side. Each side becomes a user turn with the text
before the image, as Math-PUMA's Qwen2-VL `VTADataset` writes it, and an assistant turn with the answer (see
[`puma_record_to_row`]). Images are read from the JSON's folder, from `images.tar.gz` / `images.zip` / `images.tar`
next to it, or from `--media_dirs`; a path is looked up as written, then with leading folders dropped (an absolute
`/mnt/.../Synthesis/images/q1.png` is found as `images/q1.png` in the archive).
"""

from __future__ import annotations

import os
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from ..preference import PUMA_MEDIA, puma_features, puma_record_to_row
from ..preference_reader import PairCorpusSpec
from .llava_json import llava_json_spec

MATH_PUMA_CITATION = """@inproceedings{zhuang2025mathpuma,
  title={Math-PUMA: Progressive Upward Multimodal Alignment to Enhance Mathematical Reasoning},
  author={Zhuang, Wenwen and Huang, Xin and Zhang, Xiantao and Zeng, Jin},
  booktitle={AAAI},
  year={2025}
}"""


def math_puma_spec(source: str | os.PathLike, name: str = "default") -> tuple[PairCorpusSpec, Path]:
    """A spec with one subset for a Math-PUMA Stage-2 JSON/JSONL file (a folder: every `*.json`, else `*.jsonl`);
    rows without a `source` field get the file's folder name (`Synthesis`)."""
    base, folder = llava_json_spec(source, name)
    convert: Any = partial(puma_record_to_row, default_source=Path(folder).resolve().name)
    subset = replace(
        base.subsets[name],
        media=("images.tar.gz", "images.tgz", "images.zip", "images.tar"),
        convert=convert,
        description=f"PUMA pairs from {', '.join(base.subsets[name].files)}.",
    )
    spec = PairCorpusSpec(
        name="math-puma",
        repo_id="Math-PUMA/Math-PUMA_Data_Stage2",
        subsets={name: subset},
        homepage="https://github.com/wwzhuang01/Math-PUMA",
        citation=MATH_PUMA_CITATION,
        description="Math-PUMA Stage-2 pairs: one problem in a text-rich and a vision-rich form, one answer.",
        source_note="the released Stage-2 JSON (`image_url`/`instruction`/`output` + `_2` keys)",
        tags=("puma", "kl-alignment"),
        features=puma_features(),
        card="pair_corpus.md",
        media_columns=PUMA_MEDIA,
    )
    return spec, folder


__all__ = ["math_puma_spec"]
