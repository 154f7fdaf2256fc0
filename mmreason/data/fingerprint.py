"""What a prepared subset was made from, so `data prepare` never resumes or keeps a run of other inputs.

A run's fingerprint, stored in `prepare_logs/<subset>.state.json`, is

* `corpus`, `subset`;
* `records`: every record file (JSON/JSONL/Parquet) by its name relative to the source folder, its size and the
  SHA-256 of its content (hashed at ~1 GB/s on one core; a file whose size and mtime are unchanged since the last
  run is not hashed again). A copy or a move of the same files is the same source; an edited file is not;
* `media`: the media folders/archives the reader uses (the corpus' own ones relative to the source, `--media_dirs`
  as absolute paths) and the archives it finds in those folders, each archive with its size. Loose image files
  count by their folder's path only: listing millions of images on every run would cost more than the check;
* `options`: the settings that change the output (`shard_rows`, `shard_bytes`, `check_images`, and the spec's own
  `options`, e.g. MMPR's sampling seed).

Paths of the source folder itself, the index cache and the progress bar are not part of it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .media import is_archive

if TYPE_CHECKING:
    from .builders import CorpusSpec

OUTPUT_OPTIONS = ("shard_rows", "shard_bytes", "check_images")
"""The `prepare_subset` arguments that change what is written."""


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _record_entry(path: Path, name: str, previous: dict[str, Any] | None) -> dict[str, Any]:
    stat = path.stat()
    same_file = previous and previous.get("bytes") == stat.st_size and previous.get("mtime_ns") == stat.st_mtime_ns
    digest = previous["sha256"] if same_file else file_sha256(path)
    return {"name": name, "bytes": stat.st_size, "sha256": digest, "mtime_ns": stat.st_mtime_ns}


def _media_entries(path: Path, name: str) -> list[dict[str, Any]]:
    """A media root, and for a folder the archives `MediaStore.add` indexes in it (top level and one below)."""
    if path.is_file():
        return [{"name": name, "bytes": path.stat().st_size}]
    entries = [{"name": name, "bytes": None}]
    for child in sorted(path.iterdir()) if path.is_dir() else ():
        inner = sorted(child.iterdir()) if child.is_dir() else [child]
        entries += [
            {"name": f"{name}/{item.relative_to(path).as_posix()}", "bytes": item.stat().st_size}
            for item in inner
            if item.is_file() and is_archive(item)
        ]
    return entries


def run_fingerprint(
    spec: CorpusSpec,
    subset: str,
    source: Path,
    media_dirs: tuple[str | os.PathLike, ...],
    options: dict[str, Any],
    previous: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The fingerprint of preparing `subset` of `spec` from the local folder `source` (see the module docstring);
    `previous` (an earlier run's fingerprint) saves re-hashing record files whose size and mtime did not change."""
    sub, source = spec.subset(subset), Path(source)
    known = {entry["name"]: entry for entry in (previous or {}).get("records", [])}
    records = []
    for path in sub.find_files(source):
        name = path.relative_to(source).as_posix()
        records.append(_record_entry(path, name, known.get(name)))
    roots = [(source / name, name) for name in sub.media if (source / name).exists()]
    roots += [(Path(root).resolve(), Path(root).resolve().as_posix()) for root in media_dirs]
    media = [entry for path, name in roots for entry in _media_entries(path, name)]
    return {
        "corpus": spec.name,
        "subset": subset,
        "records": records,
        "media": media,
        "options": {**{key: options[key] for key in OUTPUT_OPTIONS}, **dict(spec.options)},
    }


def _describe(entry: dict[str, Any]) -> str:
    parts = [f"{entry['bytes']} bytes" if entry.get("bytes") is not None else "a folder"]
    if "sha256" in entry:
        parts.append(f"sha256 {entry['sha256'][:12]}")
    return ", ".join(parts)


def _list_changes(kind: str, old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[str]:
    before = {entry["name"]: entry for entry in old}
    after = {entry["name"]: entry for entry in new}
    changes = [f"{kind} {name} is no longer used" for name in before if name not in after]
    changes += [f"new {kind} {name}" for name in after if name not in before]
    for name in before.keys() & after.keys():
        keys = ("bytes", "sha256")
        if any(before[name].get(key) != after[name].get(key) for key in keys):
            changes.append(f"{kind} {name} changed ({_describe(before[name])} -> {_describe(after[name])})")
    if not changes and list(before) != list(after):
        changes.append(f"the order of the {kind}s changed: {list(before)} -> {list(after)}")
    return changes


def fingerprint_changes(old: dict[str, Any] | None, new: dict[str, Any]) -> list[str]:
    """What differs between two fingerprints, one line each (empty: the same run)."""
    if old is None:
        return ["the state was written without a fingerprint (by an older mmreason)"]
    changes = [f"{key} {old.get(key)!r} -> {new[key]!r}" for key in ("corpus", "subset") if old.get(key) != new[key]]
    changes += _list_changes("record file", old.get("records", []), new["records"])
    changes += _list_changes("media", old.get("media", []), new["media"])
    old_options = old.get("options", {})
    changes += [
        f"option {key}: {old_options.get(key)!r} -> {value!r}"
        for key, value in new["options"].items()
        if old_options.get(key) != value
    ]
    return changes


class PrepareMismatchError(ValueError):
    """`--out` holds a (finished or interrupted) run of other inputs or options."""


__all__ = ["OUTPUT_OPTIONS", "PrepareMismatchError", "file_sha256", "fingerprint_changes", "run_fingerprint"]
