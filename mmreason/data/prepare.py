"""`mmreason data prepare`: a raw corpus → Parquet shards + a dataset card, resumable, with a progress bar.

    out/
      README.md                      # YAML `configs:` (one per subset) + stats; from hub_cards/datasets/<corpus>.md
      si/train-00000-of-00042.parquet ...
      prepare_logs/si.state.json     # resume point, counts
      prepare_logs/si.drops.jsonl    # every dropped record: id, reason, detail, file, raw record

Afterwards `datasets.load_dataset("out", "si")` (also `streaming=True`) gives canonical rows with images decoded,
and `huggingface_hub.upload_folder(folder_path="out", repo_type="dataset", ...)` publishes it as is.

Resuming: a shard is written to a temporary name and renamed, then the state (reader position, shard count,
drops-file length, counts) is replaced atomically. A rerun deletes shards past the recorded count, truncates the
drops file to its recorded length and continues from the recorded position, so an interrupted run finishes with
the same shards and no duplicates. The state also holds the run's fingerprint (record files by content, media
roots, output options; see `mmreason.data.fingerprint`): a rerun with another source or other options is an error
naming what changed, never a silent resume or a silent "already done"; `overwrite=True` (`--overwrite`) discards
the subset's shards and logs and starts afresh.

Caching: `datasets` keys its Arrow cache of a local folder on the card's `configs` and `dataset_info`, not on the
Parquet files (datasets 5.2 hashes the unresolved `data_files` patterns; the folder's base name is the rest of the
path). So the card carries `dataset_info` (features, rows, bytes; `load_dataset` checks the row count) and each
config's `description` carries the SHA-256 of its shards: re-preparing other rows into the same folder, or into
another folder of the same name, can never be answered from a stale cache.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import pyarrow as pa
import pyarrow.parquet as pq
from datasets import DatasetInfo, Features, Image, List, SplitDict, SplitInfo, Video
from datasets.arrow_writer import get_writer_batch_size_from_data_size, get_writer_batch_size_from_features
from datasets.info import DatasetInfosDict
from huggingface_hub import DatasetCard, DatasetCardData
from tqdm.auto import tqdm

from .builders import CORPORA, CorpusSpec
from .fingerprint import PrepareMismatchError, file_sha256, fingerprint_changes, run_fingerprint
from .schema import FEATURES

CARD_DIR = Path(__file__).resolve().parent.parent / "assets" / "hub_cards" / "datasets"
LOG_DIR = "prepare_logs"


@dataclass
class SubsetState:
    """What has been committed for one subset."""

    position: dict[str, Any] | None = None
    shards: int = 0
    rows: int = 0
    drops_bytes: int = 0
    done: bool = False
    drops: Counter = field(default_factory=Counter)
    sources: Counter = field(default_factory=Counter)
    categories: Counter = field(default_factory=Counter)
    fingerprint: dict[str, Any] | None = None
    shard_sha256: list[str] = field(default_factory=list)
    num_bytes: int = 0

    @property
    def content_sha256(self) -> str:
        """SHA-256 over the shards' SHA-256s in order: changes whenever any written byte does."""
        return hashlib.sha256("\n".join(self.shard_sha256).encode()).hexdigest()

    @classmethod
    def load(cls, path: Path) -> SubsetState:
        if not path.exists():
            return cls()
        data = json.loads(path.read_text())
        counters = {key: Counter(data.pop(key, {})) for key in ("drops", "sources", "categories")}
        return cls(**data, **counters)

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.__dict__, indent=1))
        os.replace(tmp, path)


class WrittenShard(NamedTuple):
    """One shard on disk: its rows, the SHA-256 of the file and the Arrow size of its table."""

    rows: int
    sha256: str
    num_bytes: int


class ShardWriter:
    """Writes rows (canonical by default, else of `features`) into `train-NNNNN.parquet` shards of about
    `shard_bytes` (or `shard_rows`)."""

    def __init__(self, folder: Path, shard_rows: int, shard_bytes: int, features: Features | None = None):
        self.folder, self.shard_rows, self.shard_bytes = folder, shard_rows, shard_bytes
        self.features = FEATURES if features is None else features
        self.schema = self.features.arrow_schema
        self.media_columns = [
            name
            for name, feature in self.features.items()
            if isinstance(feature, List) and isinstance(feature.feature, Image | Video)
        ]
        self.rows: list[dict[str, Any]] = []
        self.bytes = 0

    def add(self, row: dict[str, Any]) -> bool:
        """Buffer a row; `True` when the shard is full."""
        self.rows.append(row)
        self.bytes += sum(len(item["bytes"] or b"") for column in self.media_columns for item in row[column]) + 1024
        return len(self.rows) >= self.shard_rows or self.bytes >= self.shard_bytes

    def flush(self, index: int) -> WrittenShard:
        """Write the buffered rows (possibly none) as shard `index`."""
        count = len(self.rows)
        path = self.folder / f"train-{index:05d}.parquet"
        tmp = path.with_name(path.name + ".tmp")
        table = pa.Table.from_pylist(self.rows, schema=self.schema)
        row_group = get_writer_batch_size_from_features(self.features)  # the Hub viewer's row-group sizing
        row_group = row_group or get_writer_batch_size_from_data_size(count, self.bytes)
        pq.write_table(table, tmp, row_group_size=row_group)
        shard = WrittenShard(count, file_sha256(tmp), table.nbytes)  # hashed while the file is in the page cache
        os.replace(tmp, path)
        self.rows, self.bytes = [], 0
        return shard


def prepare_subset(
    spec: CorpusSpec,
    subset: str,
    source: Path,
    out: Path,
    *,
    shard_rows: int = 50_000,
    shard_bytes: int = 512 << 20,
    media_dirs: tuple[str, ...] = (),
    index_cache_dir: str | os.PathLike | None = None,
    check_images: bool = True,
    progress: bool = True,
    overwrite: bool = False,
) -> SubsetState:
    """Convert one subset into `out/<subset>/train-*.parquet`, resuming a previous run of the same inputs and
    options. A previous run of other inputs/options raises [`PrepareMismatchError`] naming the differences;
    `overwrite=True` deletes the subset's shards and logs first and starts afresh."""
    folder, logs = out / subset, out / LOG_DIR
    folder.mkdir(parents=True, exist_ok=True)
    logs.mkdir(parents=True, exist_ok=True)
    state_path, drops_path = logs / f"{subset}.state.json", logs / f"{subset}.drops.jsonl"
    state = SubsetState.load(state_path)
    options = {"shard_rows": shard_rows, "shard_bytes": shard_bytes, "check_images": check_images}
    fingerprint = run_fingerprint(spec, subset, source, media_dirs, options, previous=state.fingerprint)
    if overwrite:
        state = _discard(folder, state_path, drops_path)
    elif state_path.exists() and (changes := fingerprint_changes(state.fingerprint, fingerprint)):
        raise PrepareMismatchError(
            f"{state_path} is a {'finished' if state.done else 'interrupted'} run of {subset!r} with other inputs or "
            f"options: {'; '.join(changes)}. Rerun with --overwrite (overwrite=True) to discard its "
            f"{state.shards} shard(s) and start afresh, or choose another --out."
        )
    state.fingerprint = fingerprint  # same run: refreshes the mtimes that spare re-hashing next time
    if state.done:
        state.save(state_path)
        return state
    for stale in folder.glob("train-*.parquet*"):
        if stale.name.endswith(".tmp") or int(stale.name[6:11]) >= state.shards:
            stale.unlink()
    del state.shard_sha256[state.shards :]
    with open(drops_path, "ab") as handle:
        handle.truncate(state.drops_bytes)
    reader = spec.reader(
        subset,
        source,
        media_dirs=media_dirs,
        index_cache_dir=index_cache_dir,
        check_images=check_images,
        position=state.position,
    )
    writer = ShardWriter(folder, shard_rows, shard_bytes, spec.row_features)
    pending = {"drops": Counter(), "sources": Counter(), "categories": Counter()}
    bar = tqdm(
        total=reader.total_bytes, initial=reader.bytes_read, unit="B", unit_scale=True, disable=not progress,
        desc=f"{spec.name}/{subset}",
    )  # fmt: skip

    def write_shard() -> None:
        shard = writer.flush(state.shards)
        state.rows += shard.rows
        state.num_bytes += shard.num_bytes
        state.shard_sha256.append(shard.sha256)
        state.shards += 1

    def commit() -> None:
        if writer.rows:
            write_shard()
        drops.flush()
        state.drops_bytes = drops.tell()
        state.position = reader.position_now()
        for key, counter in pending.items():
            getattr(state, key).update(counter)
            counter.clear()
        state.save(state_path)
        bar.set_postfix(rows=state.rows, dropped=state.drops.total(), refresh=False)

    with open(drops_path, "a", encoding="utf-8", errors="backslashreplace") as drops:  # lone surrogate: "\\udXXXX"
        for count, item in enumerate(reader, start=1):
            if item.drop is not None:
                drops.write(json.dumps(item.drop.to_json(), ensure_ascii=False, default=str) + "\n")
                pending["drops"][item.drop.reason] += 1
            else:
                pending["sources"][item.row["source"]] += 1
                if "category" in item.row:  # preference and pair rows have none
                    pending["categories"][item.row["category"]] += 1
                if writer.add(item.row):
                    commit()
            if count % 512 == 0:
                bar.update(reader.bytes_read - bar.n)
        commit()
    if state.shards == 0:  # everything dropped: an empty shard keeps the config loadable
        write_shard()
    bar.update(reader.total_bytes - bar.n)
    bar.close()
    _name_shards(folder, state.shards)
    state.done = True
    state.save(state_path)
    return state


def _discard(folder: Path, state_path: Path, drops_path: Path) -> SubsetState:
    """Remove a subset's shards, state and drops log: a fresh start."""
    for path in (*folder.glob("train-*.parquet*"), state_path, drops_path):
        path.unlink(missing_ok=True)
    return SubsetState()


def _name_shards(folder: Path, total: int) -> None:
    """`train-00003.parquet` → `train-00003-of-00010.parquet` (the Hub's naming) once the count is known."""
    for path in sorted(folder.glob("train-?????.parquet")):
        path.rename(path.with_name(f"{path.stem}-of-{total:05d}.parquet"))
    if total and not any(folder.glob("train-*.parquet")):
        raise RuntimeError(f"no shards in {folder}")


def write_card(spec: CorpusSpec, out: Path, states: dict[str, SubsetState]) -> Path:
    """Write `out/README.md` from the corpus' card template: one `configs:` entry per prepared subset (its
    `description` holds the shards' SHA-256, so `datasets`' cache key follows the content), `dataset_info` with
    features, rows and sizes, and a license only where the corpus has one (never for your own LLaVA data)."""
    done = {name: states[name] for name in spec.subsets if name in states and states[name].done}
    configs = [
        {
            "config_name": name,
            "data_files": [{"split": "train", "path": f"{name}/train-*.parquet"}],
            "description": f"Prepared by mmreason; content sha256 {state.content_sha256}",
        }
        for name, state in done.items()
    ]
    if configs:
        configs[0]["default"] = True
    card_data = DatasetCardData(
        license=spec.license or None,
        pretty_name=spec.repo_id.split("/")[-1],
        task_categories=["image-text-to-text"],
        language="en",
        tags=["mmreason", *spec.tags],
        source_datasets=[spec.repo_id],
        configs=configs,
    )
    infos = {name: _dataset_info(out / name, state, spec.row_features) for name, state in done.items()}
    DatasetInfosDict(infos).to_dataset_card_data(card_data)
    stats = {
        name: {
            "rows": state.rows,
            "shards": state.shards,
            "dropped": dict(state.drops),
            "sources": dict(state.sources.most_common(20)),
            "categories": dict(state.categories),
        }
        for name, state in states.items()
    }
    card = DatasetCard.from_template(card_data, template_path=str(CARD_DIR / spec.card), spec=spec, stats=stats)
    card.save(out / "README.md")
    return out / "README.md"


def _dataset_info(folder: Path, state: SubsetState, features: Features) -> DatasetInfo:
    """The card's `dataset_info` for one subset: features, the train split's rows/Arrow bytes, Parquet bytes."""
    splits = SplitDict()
    splits.add(SplitInfo(name="train", num_bytes=state.num_bytes, num_examples=state.rows))
    parquet_bytes = sum(path.stat().st_size for path in folder.glob("train-*.parquet"))
    return DatasetInfo(features=features, splits=splits, download_size=parquet_bytes, dataset_size=state.num_bytes)


class TooManyDropsError(ValueError):
    """A prepared subset kept no rows, or dropped more than the allowed fraction of its records."""


def check_drops(states: dict[str, SubsetState], out: str | os.PathLike, max_drop_fraction: float = 0.5) -> None:
    """Raise [`TooManyDropsError`] if any subset kept no rows or dropped more than `max_drop_fraction` of its
    records, naming the per-reason counts and the subset's drop log (`out/prepare_logs/<subset>.drops.jsonl`)."""
    problems = []
    for name, state in states.items():
        dropped = state.drops.total()
        total = state.rows + dropped
        if state.rows == 0 or dropped > max_drop_fraction * total:
            log = Path(out) / LOG_DIR / f"{name}.drops.jsonl"
            problems.append(
                f"{name}: kept {state.rows} of {total} records, dropped {dropped} ({dropped / max(total, 1):.0%}, "
                f"more than --max_drop_fraction {max_drop_fraction:g}) {dict(state.drops.most_common())}; "
                f"every dropped record and why: {log}"
            )
    if problems:
        raise TooManyDropsError("\n".join(problems))


def prepare_corpus(
    corpus: str | CorpusSpec,
    source: str | os.PathLike,
    out: str | os.PathLike,
    subsets: list[str] | None = None,
    **kwargs: Any,
) -> dict[str, SubsetState]:
    """Prepare `subsets` of `corpus` ("mammoth-vl", "visualwebinstruct") from a local folder or Hub repo `source`
    into `out` (default: every subset whose files are present); returns the per-subset state (rows, shards, drop
    reasons, counts). `kwargs` go to [`prepare_subset`] (`shard_rows`, `overwrite`, ...)."""
    spec = CORPORA[corpus] if isinstance(corpus, str) else corpus
    for name in subsets or ():
        spec.subset(name)
    local = spec.resolve_source(source, subsets)
    subsets = subsets or [name for name in spec.subsets if spec.subset(name).available(local)]
    if not subsets:
        raise FileNotFoundError(f"no {spec.name} subset found in {local}: expected one of {spec.file_patterns()}")
    out = Path(out)
    states = {}
    for name in subsets:
        states[name] = prepare_subset(spec, name, local, out, **kwargs)
    for state_path in (out / LOG_DIR).glob("*.state.json"):
        name = state_path.name.split(".")[0]
        states.setdefault(name, SubsetState.load(state_path))
    write_card(spec, out, states)
    return states


__all__ = [
    "PrepareMismatchError",
    "ShardWriter",
    "SubsetState",
    "TooManyDropsError",
    "WrittenShard",
    "check_drops",
    "prepare_corpus",
    "prepare_subset",
    "write_card",
]
