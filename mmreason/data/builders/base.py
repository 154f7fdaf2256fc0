"""What a corpus is (its subsets, raw files, media and record format) and the `datasets` builder over it.

A [`CorpusSpec`] names each subset's record files (glob patterns in order of preference, so older Hub revisions
work too), its media folders/archives, and the record → canonical row function. [`CorpusBuilder`] turns a spec into
a `datasets.GeneratorBasedBuilder` (datasets 5 dropped loading scripts, so the builder ships in the package and is
instantiated directly):

    builder = MAmmoTHVLInstruct(config_name="si", data_dir="/data/MAmmoTH-VL-Instruct-12M")
    builder.download_and_prepare(); ds = builder.as_dataset("train")       # Arrow cache
    stream = builder.as_streaming_dataset("train")                         # no cache

`mmreason data prepare` (see `mmreason.data.prepare`) runs the same reader into Parquet shards instead.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import datasets

from ..corpus import Converter, CorpusReader
from ..llava import llava_to_canonical
from ..media import MediaStore
from ..schema import FEATURES

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SubsetSpec:
    """One subset (`datasets` config) of a corpus.

    Args:
        name: the config name (`si`, `ov`, `conversation`, …).
        files: glob patterns relative to the source folder; the first pattern that matches wins.
        media: folders/archives (relative to the source) the subset's media paths resolve against.
        convert: `(record, default_id) -> row`; LLaVA JSON by default.
        description: one line for the dataset card.
    """

    name: str
    files: tuple[str, ...]
    media: tuple[str, ...] = ()
    convert: Converter = llava_to_canonical
    description: str = ""

    def available(self, source: Path) -> bool:
        """Whether the subset's record files are in `source`."""
        return any(path.is_file() for pattern in self.files for path in source.glob(pattern))

    def find_files(self, source: Path) -> list[Path]:
        for pattern in self.files:
            found = sorted(path for path in source.glob(pattern) if path.is_file())
            if found:
                return found
        raise FileNotFoundError(f"subset {self.name!r}: none of {list(self.files)} found under {source}")


@dataclass(frozen=True)
class CorpusSpec:
    """A corpus: Hub id, card facts and its subsets."""

    name: str
    repo_id: str
    subsets: dict[str, SubsetSpec]
    license: str | None = None  # the corpus' own license; None for user data (nothing is claimed)
    homepage: str = ""
    citation: str = ""
    description: str = ""
    source_note: str = "the original files"
    tags: tuple[str, ...] = field(default=())
    features: datasets.Features | None = None  # the rows' features; None: the canonical row (`schema.FEATURES`)
    card: str = "canonical_corpus.md"  # the dataset-card template in mmreason/assets/hub_cards/datasets
    options: tuple[tuple[str, Any], ...] = ()  # spec settings that change the rows (e.g. a sampling seed)

    @property
    def row_features(self) -> datasets.Features:
        """The `datasets.Features` of the rows this corpus prepares into."""
        return FEATURES if self.features is None else self.features

    def subset(self, name: str) -> SubsetSpec:
        if name not in self.subsets:
            raise ValueError(f"{self.name} has subsets {list(self.subsets)}, not {name!r}")
        return self.subsets[name]

    def file_patterns(self) -> dict[str, tuple[str, ...]]:
        """The record-file patterns of each subset."""
        return {name: sub.files for name, sub in self.subsets.items()}

    def resolve_source(self, source: str | os.PathLike, subsets: list[str] | None = None) -> Path:
        """A local folder as is; otherwise a Hub dataset repo, downloaded (only the subsets' files and media)."""
        if Path(source).is_dir():
            return Path(source)
        from huggingface_hub import snapshot_download

        patterns = [
            pattern
            for name in subsets or list(self.subsets)
            for pattern in (*self.subset(name).files, *(f"{media}*" for media in self.subset(name).media))
        ]
        return Path(snapshot_download(str(source), repo_type="dataset", allow_patterns=patterns))

    def reader(
        self,
        subset: str,
        source: str | os.PathLike,
        *,
        media_dirs: tuple[str | os.PathLike, ...] = (),
        index_cache_dir: str | os.PathLike | None = None,
        check_images: bool = True,
        position: dict[str, Any] | None = None,
    ) -> CorpusReader:
        """A [`CorpusReader`] over one subset of a local source folder."""
        spec, source = self.subset(subset), Path(source)
        media = MediaStore(cache_dir=index_cache_dir)
        for root in media_dirs:
            media.add(root)
        for name in spec.media:
            if (source / name).exists():
                media.add(source / name)
        media.add(source, archives=False)  # loose files next to the JSON
        return CorpusReader(spec.find_files(source), media, spec.convert, check_images, position)


@dataclass
class CorpusBuilderConfig(datasets.BuilderConfig):
    """`data_dir` is the raw corpus (local folder or Hub repo); `media_dirs` adds extracted image folders or
    archives; `index_cache_dir` keeps the archive indexes; `check_images` drops rows whose image does not open."""

    media_dirs: tuple[str, ...] = ()
    index_cache_dir: str | None = None
    check_images: bool = True


class CorpusBuilder(datasets.GeneratorBasedBuilder):
    """Canonical rows of one [`CorpusSpec`] subset; dropped records are logged with their reasons."""

    SPEC: CorpusSpec
    BUILDER_CONFIG_CLASS = CorpusBuilderConfig

    def _info(self) -> datasets.DatasetInfo:
        return datasets.DatasetInfo(
            description=self.SPEC.description,
            features=self.SPEC.row_features,
            homepage=self.SPEC.homepage,
            license=self.SPEC.license,
            citation=self.SPEC.citation,
        )

    def _split_generators(self, dl_manager: Any) -> list[datasets.SplitGenerator]:
        if not self.config.data_dir:
            raise ValueError(f"{type(self).__name__} needs data_dir=<folder or Hub repo with the raw corpus>")
        source = self.SPEC.resolve_source(self.config.data_dir, [self.config.name])
        return [datasets.SplitGenerator(name=datasets.Split.TRAIN, gen_kwargs={"source": str(source)})]

    def _generate_examples(self, source: str) -> Iterator[tuple[int, dict[str, Any]]]:
        reader = self.SPEC.reader(
            self.config.name,
            source,
            media_dirs=tuple(self.config.media_dirs),
            index_cache_dir=self.config.index_cache_dir,
            check_images=self.config.check_images,
        )
        drops: Counter = Counter()
        for item in reader:
            if item.row is not None:
                yield reader.records_read, item.row
            else:
                drops[item.drop.reason] += 1
                logger.warning("dropped %s (%s): %s", item.drop.id, item.drop.reason, item.drop.detail)
        if drops:
            logger.warning(
                "%s/%s: dropped %d records: %s", self.SPEC.name, self.config.name, drops.total(), dict(drops)
            )


def builder_configs(spec: CorpusSpec) -> list[CorpusBuilderConfig]:
    """One `BUILDER_CONFIGS` entry per subset of `spec`."""
    return [CorpusBuilderConfig(name=name, description=sub.description) for name, sub in spec.subsets.items()]


__all__ = ["CorpusBuilder", "CorpusBuilderConfig", "CorpusSpec", "SubsetSpec", "builder_configs"]
