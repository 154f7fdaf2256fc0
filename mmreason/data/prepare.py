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
the same shards and no duplicates.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from datasets.arrow_writer import get_writer_batch_size_from_data_size, get_writer_batch_size_from_features
from huggingface_hub import DatasetCard, DatasetCardData
from tqdm.auto import tqdm

from .builders import CORPORA, CorpusSpec
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


class ShardWriter:
    """Writes canonical rows into `train-NNNNN.parquet` shards of about `shard_bytes` (or `shard_rows`)."""

    def __init__(self, folder: Path, shard_rows: int, shard_bytes: int):
        self.folder, self.shard_rows, self.shard_bytes = folder, shard_rows, shard_bytes
        self.schema = FEATURES.arrow_schema
        self.rows: list[dict[str, Any]] = []
        self.bytes = 0

    def add(self, row: dict[str, Any]) -> bool:
        """Buffer a row; `True` when the shard is full."""
        self.rows.append(row)
        self.bytes += sum(len(item["bytes"]) for column in ("images", "videos") for item in row[column]) + 1024
        return len(self.rows) >= self.shard_rows or self.bytes >= self.shard_bytes

    def flush(self, index: int) -> int:
        """Write the buffered rows as shard `index`; returns the number of rows written."""
        count = len(self.rows)
        if count:
            path = self.folder / f"train-{index:05d}.parquet"
            tmp = path.with_name(path.name + ".tmp")
            table = pa.Table.from_pylist(self.rows, schema=self.schema)
            row_group = get_writer_batch_size_from_features(FEATURES)  # the Hub viewer's row-group sizing
            row_group = row_group or get_writer_batch_size_from_data_size(count, self.bytes)
            pq.write_table(table, tmp, row_group_size=row_group)
            os.replace(tmp, path)
        self.rows, self.bytes = [], 0
        return count


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
) -> SubsetState:
    """Convert one subset into `out/<subset>/train-*.parquet`, resuming a previous run if there is one."""
    folder, logs = out / subset, out / LOG_DIR
    folder.mkdir(parents=True, exist_ok=True)
    logs.mkdir(parents=True, exist_ok=True)
    state_path, drops_path = logs / f"{subset}.state.json", logs / f"{subset}.drops.jsonl"
    state = SubsetState.load(state_path)
    if state.done:
        return state
    for stale in folder.glob("train-*.parquet*"):
        if stale.name.endswith(".tmp") or int(stale.name[6:11]) >= state.shards:
            stale.unlink()
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
    writer = ShardWriter(folder, shard_rows, shard_bytes)
    pending = {"drops": Counter(), "sources": Counter(), "categories": Counter()}
    bar = tqdm(
        total=reader.total_bytes, initial=reader.bytes_read, unit="B", unit_scale=True, disable=not progress,
        desc=f"{spec.name}/{subset}",
    )  # fmt: skip

    def commit() -> None:
        if writer.rows:
            state.rows += writer.flush(state.shards)
            state.shards += 1
        drops.flush()
        state.drops_bytes = drops.tell()
        state.position = reader.position_now()
        for key, counter in pending.items():
            getattr(state, key).update(counter)
            counter.clear()
        state.save(state_path)
        bar.set_postfix(rows=state.rows, dropped=state.drops.total(), refresh=False)

    with open(drops_path, "a", encoding="utf-8") as drops:
        for count, item in enumerate(reader, start=1):
            if item.drop is not None:
                drops.write(json.dumps(item.drop.to_json(), ensure_ascii=False, default=str) + "\n")
                pending["drops"][item.drop.reason] += 1
            else:
                pending["sources"][item.row["source"]] += 1
                pending["categories"][item.row["category"]] += 1
                if writer.add(item.row):
                    commit()
            if count % 512 == 0:
                bar.update(reader.bytes_read - bar.n)
        commit()
    if state.shards == 0:  # everything dropped: an empty shard keeps the config loadable
        pq.write_table(FEATURES.arrow_schema.empty_table(), folder / "train-00000.parquet")
        state.shards = 1
    bar.update(reader.total_bytes - bar.n)
    bar.close()
    _name_shards(folder, state.shards)
    state.done = True
    state.save(state_path)
    return state


def _name_shards(folder: Path, total: int) -> None:
    """`train-00003.parquet` → `train-00003-of-00010.parquet` (the Hub's naming) once the count is known."""
    for path in sorted(folder.glob("train-?????.parquet")):
        path.rename(path.with_name(f"{path.stem}-of-{total:05d}.parquet"))
    if total and not any(folder.glob("train-*.parquet")):
        raise RuntimeError(f"no shards in {folder}")


def write_card(spec: CorpusSpec, out: Path, states: dict[str, SubsetState]) -> Path:
    """Write `out/README.md` from the corpus' card template, with one `configs:` entry per prepared subset."""
    configs = [
        {"config_name": name, "data_files": [{"split": "train", "path": f"{name}/train-*.parquet"}]}
        for name in spec.subsets
        if name in states and states[name].done
    ]
    if configs:
        configs[0]["default"] = True
    card_data = DatasetCardData(
        license=spec.license,
        pretty_name=spec.repo_id.split("/")[-1],
        task_categories=["image-text-to-text"],
        language="en",
        tags=["mmreason", *spec.tags],
        source_datasets=[spec.repo_id],
        configs=configs,
    )
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
    card = DatasetCard.from_template(
        card_data, template_path=str(CARD_DIR / "canonical_corpus.md"), spec=spec, stats=stats
    )
    card.save(out / "README.md")
    return out / "README.md"


def prepare_corpus(
    corpus: str | CorpusSpec,
    source: str | os.PathLike,
    out: str | os.PathLike,
    subsets: list[str] | None = None,
    **kwargs: Any,
) -> dict[str, SubsetState]:
    """Prepare `subsets` of `corpus` ("mammoth-vl", "visualwebinstruct") from a local folder or Hub repo `source`
    into `out` (default: every subset whose files are present); returns the per-subset state (rows, shards, drop
    reasons, counts)."""
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


__all__ = ["ShardWriter", "SubsetState", "prepare_corpus", "prepare_subset", "write_card"]
