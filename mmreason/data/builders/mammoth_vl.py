"""MAmmoTH-VL-Instruct-12M (`MAmmoTH-VL/MAmmoTH-VL-Instruct-12M`): 12M rewritten multimodal rationale samples.

Hub layout: `mammoth_si_10M.json` (21.8 GB JSON array, single-image stage), `mammoth_ov_2M.json` (4 GB,
OneVision stage: single-image, multi-image and video), media in `single_image_data/`, `multi_image_data/`,
`video_data/` as `shard_*.tar.gz` whose members keep the JSON's relative paths. Earlier revisions split the JSON
into `mammoth_si_part*.json` / `mammoth_ov_*.json`; those are read when the consolidated files are absent.

Subsets: `si` and `ov` (the latter with its multi-image and video rows).
"""

from __future__ import annotations

from functools import partial

from ..llava import llava_to_canonical
from .base import CorpusBuilder, CorpusSpec, SubsetSpec, builder_configs

# text-only records have no media path to name their source
_convert = partial(llava_to_canonical, default_source="MAmmoTH-VL-Instruct-12M")

MAMMOTH_VL = CorpusSpec(
    name="mammoth-vl",
    repo_id="MAmmoTH-VL/MAmmoTH-VL-Instruct-12M",
    homepage="https://mammoth-vl.github.io",
    license="apache-2.0",
    description="MAmmoTH-VL-Instruct-12M: 12M multimodal instruction samples with rewritten rationales.",
    citation=(
        "@article{guo2024mammothvl,\n  title={MAmmoTH-VL: Eliciting Multimodal Reasoning with Instruction Tuning at"
        " Scale},\n  author={Guo, Jarvis and others},\n  journal={arXiv preprint arXiv:2412.05237},\n  year={2024}\n}"
    ),
    source_note="the original LLaVA JSON arrays and `*_data/shard_*.tar.gz` archives",
    subsets={
        "si": SubsetSpec(
            "si",
            files=("mammoth_si_10M.json", "mammoth_si*.json", "mammoth_si*.jsonl"),
            media=("single_image_data",),
            convert=_convert,
            description="Single-image stage (10M rows).",
        ),
        "ov": SubsetSpec(
            "ov",
            files=("mammoth_ov_2M.json", "mammoth_ov*.json", "mammoth_ov*.jsonl"),
            media=("single_image_data", "multi_image_data", "video_data"),
            convert=_convert,
            description="OneVision stage (2M rows): single-image, multi-image and video.",
        ),
    },
)


class MAmmoTHVLInstruct(CorpusBuilder):
    """`datasets` builder for MAmmoTH-VL-Instruct-12M; configs `si` and `ov`, `data_dir` = the raw corpus."""

    SPEC = MAMMOTH_VL
    BUILDER_CONFIGS = builder_configs(MAMMOTH_VL)
    DEFAULT_CONFIG_NAME = "si"


__all__ = ["MAMMOTH_VL", "MAmmoTHVLInstruct"]
