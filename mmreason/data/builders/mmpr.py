"""OpenGVLab/MMPR (InternVL's MPO data) as released, and any preference JSONL, into preference rows.

MMPR is `meta.json` + `annotations.zip` + `images.zip` (v1.1/v1.2 split the images as `images.zip_a`,
`images.zip_b`: `cat images.zip_* > images.zip`). Unzip the annotations next to `meta.json`; the images can stay
zipped. `meta.json` maps a dataset name to

    {"root": "MMPR-v1.2/images/M3CoT", "annotation": "MMPR-v1.2/annotations/m3cot_..._rules.jsonl",
     "data_augment": false, "repeat_time": 1, "length": 529}

and each annotation line is `{"image": path | [paths] | absent, "question", "chosen", "rejected"[, "answer_gt"]}`
with image paths relative to `root` (see [`preference_record_to_row`] for the `<image>` rule). The paths in
`meta.json` are relative to the folder InternVL runs in; here an annotation is looked up under the `meta.json`
folder as written, then with leading folders dropped (`annotations/m3cot_....jsonl`), and images likewise (see
`mmreason.data.preference_reader`).

`repeat_time` r, as InternVL's `internvl_chat_mpo.py` (`LazySupervisedDataset`) applies it:

* r < 1: InternVL keeps `random.sample(lines, k=int(len(lines) * r))`, drawn from Python's global `random`
  (seeded only by `set_seed(training_args.seed)` and whatever drew from it before), so its subset cannot be
  reproduced from the files. mmreason keeps `int(n * r)` of the file's n records (non-blank lines), drawn
  uniformly without replacement by `random.Random(f"{seed}:{name}")` (`sampling="random"`, the default; the same
  seed gives the same rows on every run and machine), or the first `int(n * r)` records (`sampling="first"`,
  InternVL's behaviour before the MPO release). Kept records stay in file order.
* r >= 1: InternVL repeats the lines `int(r)` times (the fractional part of r > 1 is dropped; the MPO-era code
  asserted an integer); mmreason writes `int(r)` copies, the copies after the first with ids `<id>-r1`, `<id>-r2`.
* Row order does not follow InternVL's per-dataset `np.random.default_rng(seed=ds_idx).shuffle`: the trainer's
  sampler shuffles.

`data_augment` and `length` are not used (`length` is InternVL's precomputed count; n is counted from the file).
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

from ..preference import PREFERENCE_MEDIA, preference_features, preference_record_to_row
from ..preference_reader import FilePlan, PairCorpusSpec, media_candidates
from .base import SubsetSpec
from .llava_json import llava_json_spec

SAMPLING = ("random", "first")
MMPR_CITATION = """@article{wang2024mpo,
  title={Enhancing the Reasoning Ability of Multimodal Large Language Models via Mixed Preference Optimization},
  author={Wang, Weiyun and Chen, Zhe and Wang, Wenhai and Cao, Yue and Liu, Yangzhou and Gao, Zhangwei and
          Zhu, Jinguo and Zhu, Xizhou and Lu, Lewei and Qiao, Yu and Dai, Jifeng},
  journal={arXiv preprint arXiv:2411.10442},
  year={2024}
}"""


class MMPRMetaError(ValueError):
    """`meta.json` is not valid JSON, an entry lacks a field, or an annotation file is not under the folder."""


@dataclass(frozen=True)
class MetaEntry:
    """One dataset of `meta.json`: its name, image root, annotation file (resolved) and `repeat_time`."""

    name: str
    root: str
    annotation: Path
    repeat_time: float


def _find_under(folder: Path, path: str) -> Path | None:
    for candidate in media_candidates(path):
        if not os.path.isabs(candidate) and (folder / candidate).is_file():
            return folder / candidate
    absolute = Path(path)
    return absolute if absolute.is_absolute() and absolute.is_file() and absolute.is_relative_to(folder) else None


def read_meta(meta: str | os.PathLike) -> list[MetaEntry]:
    """The entries of an MMPR/InternVL `meta.json`, in file order, with their annotation files found under its
    folder.

    Raises:
        MMPRMetaError: invalid JSON, not an object of objects, a missing/mistyped `root`/`annotation`/`repeat_time`,
            a negative `repeat_time`, an annotation that is not `.jsonl` (InternVL asserts it) or is not found.
    """
    meta = Path(meta)
    try:
        data = json.loads(meta.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise MMPRMetaError(f"{meta}: not valid JSON ({error})") from None
    if not isinstance(data, dict):
        raise MMPRMetaError(f"{meta}: expected an object of datasets, got {type(data).__name__}")
    entries, missing = [], []
    for name, entry in data.items():
        if not isinstance(entry, dict):
            raise MMPRMetaError(f"{meta}: entry {name!r} is not an object")
        root, annotation, repeat = entry.get("root", ""), entry.get("annotation"), entry.get("repeat_time", 1)
        if not isinstance(root, str) or not isinstance(annotation, str) or not annotation.endswith(".jsonl"):
            raise MMPRMetaError(f"{meta}: entry {name!r} needs a string `root` and a `.jsonl` `annotation`")
        if isinstance(repeat, bool) or not isinstance(repeat, int | float) or not repeat >= 0:
            raise MMPRMetaError(f"{meta}: entry {name!r} has `repeat_time` {repeat!r}, not a number >= 0")
        found = _find_under(meta.parent, annotation)
        if found is None:
            missing.append(f"{name}: {annotation}")
        else:
            entries.append(MetaEntry(name, root, found, float(repeat)))
    if missing:
        raise MMPRMetaError(
            f"{meta}: {len(missing)} annotation file(s) not found under {meta.parent} (unzip annotations.zip "
            f"there): {missing[:5]}"
        )
    return entries


def count_records(path: str | os.PathLike) -> int:
    """The records of a JSONL file as the corpus reader numbers them: its non-blank lines."""
    with open(path, "rb") as handle:
        if handle.read(3) != b"\xef\xbb\xbf":
            handle.seek(0)
        return sum(1 for line in handle if line.strip(b" \t\r\n"))


def plan_passes(
    entries: list[MetaEntry], seed: int = 0, sampling: str = "random"
) -> tuple[list[Path], list[FilePlan]]:
    """The record files to read (a file once per copy) and each pass' [`FilePlan`], by the rules in the module
    docstring."""
    if sampling not in SAMPLING:
        raise ValueError(f"sampling must be one of {SAMPLING}, not {sampling!r}")
    files, plans = [], []
    for entry in entries:
        base = FilePlan(source=entry.name, root=entry.root)
        if entry.repeat_time >= 1:
            copies = [replace(base, copy=copy) for copy in range(int(entry.repeat_time))]
        else:
            count = count_records(entry.annotation)
            size = int(count * entry.repeat_time)
            if sampling == "first":
                keep = frozenset(range(size))
            else:
                keep = frozenset(random.Random(f"{seed}:{entry.name}").sample(range(count), size))
            copies = [replace(base, keep=keep)] if size else []
        files += [entry.annotation] * len(copies)
        plans += copies
    return files, plans


@dataclass(frozen=True)
class MMPRSubset(SubsetSpec):
    """The one subset of an MMPR folder: its record files are `meta.json` and every annotation it names."""

    def available(self, source: Path) -> bool:
        return (Path(source) / self.files[0]).is_file()

    def find_files(self, source: Path) -> list[Path]:
        meta = Path(source) / self.files[0]
        if not meta.is_file():
            raise FileNotFoundError(f"no {self.files[0]} in {source}")
        annotations = dict.fromkeys(entry.annotation for entry in read_meta(meta))
        return [meta, *annotations]


def mmpr_spec(source: str | os.PathLike, seed: int = 0, sampling: str = "random") -> tuple[PairCorpusSpec, Path]:
    """The spec of an MMPR folder (or its `meta.json` given directly); returns it with the folder."""
    path = Path(source)
    folder, meta = (path.parent, path.name) if path.is_file() else (path, "meta.json")
    if sampling not in SAMPLING:
        raise ValueError(f"sampling must be one of {SAMPLING}, not {sampling!r}")
    subset = MMPRSubset(
        "default",
        files=(meta,),
        media=("images.zip",),
        convert=preference_record_to_row,
        description=f"every dataset of {meta}, `repeat_time` applied (seed {seed}, {sampling} sub-sampling).",
    )
    spec = PairCorpusSpec(
        name="mmpr",
        repo_id="OpenGVLab/MMPR",
        subsets={"default": subset},
        homepage="https://internvl.github.io/blog/2024-11-14-InternVL-2.0-MPO/",
        citation=MMPR_CITATION,
        description="MMPR: multimodal reasoning preference pairs for InternVL's Mixed Preference Optimization.",
        source_note=f"the released `{meta}` + annotations + images",
        tags=("preference", "dpo", "mpo"),
        features=preference_features(),
        card="pair_corpus.md",
        options=(("seed", seed), ("sampling", sampling)),
        media_columns=PREFERENCE_MEDIA,
        plan=partial(_plan, meta=meta, seed=seed, sampling=sampling),
    )
    return spec, folder


def _plan(folder: Path, *, meta: str, seed: int, sampling: str) -> tuple[list[Path], list[FilePlan]]:
    return plan_passes(read_meta(folder / meta), seed, sampling)


def preference_jsonl_spec(source: str | os.PathLike, name: str = "default") -> tuple[PairCorpusSpec, Path]:
    """A spec with one subset for preference JSONL/JSON/Parquet (MMPR lines or canonical preference rows, e.g. a
    prepared folder's or a Hub preference dataset's Parquet shards with embedded images; a folder: every `*.jsonl`,
    else `*.json`, else `*.parquet`); image paths are relative to the file's folder or `--media_dirs`."""
    base, folder = llava_json_spec(source, name)
    files = ("*.jsonl", "*.json", "*.parquet") if Path(source).is_dir() else base.subsets[name].files
    convert: Any = partial(preference_record_to_row, default_source=base.repo_id)
    subset = replace(base.subsets[name], files=files, convert=convert, description=f"from {', '.join(files)}.")
    spec = PairCorpusSpec(
        name="preference",
        repo_id=base.repo_id,
        subsets={name: subset},
        source_note="preference JSONL",
        tags=("preference", "dpo"),
        features=preference_features(),
        card="pair_corpus.md",
        media_columns=PREFERENCE_MEDIA,
    )
    return spec, folder


__all__ = [
    "SAMPLING",
    "MMPRMetaError",
    "MMPRSubset",
    "MetaEntry",
    "count_records",
    "mmpr_spec",
    "plan_passes",
    "preference_jsonl_spec",
    "read_meta",
]
