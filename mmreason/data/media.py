"""Resolve the source-relative media paths of LLaVA JSON to bytes, from folders or straight from archive shards.

MAmmoTH-VL-Instruct-12M ships its media as `*_data/shard_*.tar.gz` (0.8-17.5 GB each) whose members keep the
paths the JSON uses (`M4-Instruct-Data/HQ-Edit/images/83425.jpg`); VisualWebInstruct ships `images.zip` whose
members sit under one top folder (`imgs/...`). [`MediaStore`] reads from both without extracting anything:

* folders: `root/<path>`;
* `.zip`: the central directory is the index, members are read on demand;
* `.tar`: member offsets are indexed in one pass, members are read with a seek;
* `.tar.gz` / `.tgz`: one pass builds the member index and a gzip seek-point index (`indexed_gzip`, zran), both
  cached on disk; a member read then decompresses at most `spacing` bytes (4 MiB) from the nearest seek point.

A path is looked up as written, then under an archive's single top folder (`imgs/` + path). Lookups that fail raise
[`MediaNotFoundError`].
"""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

import indexed_gzip

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".zip")
_MAX_OPEN = 8


class MediaNotFoundError(FileNotFoundError):
    """A media path found in no folder and no archive of the store."""


def is_archive(path: str | os.PathLike) -> bool:
    """Whether `path` names a supported archive (`.tar.gz`, `.tgz`, `.tar`, `.zip`)."""
    return str(path).endswith(ARCHIVE_SUFFIXES)


def _normalize(path: str) -> str:
    path = path.replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path.lstrip("/")


def _single_top_folder(names: list[str]) -> str | None:
    tops = {name.split("/", 1)[0] for name in names if "/" in name}
    return f"{tops.pop()}/" if len(tops) == 1 and all("/" in name for name in names) else None


class _Archive:
    """One archive: `names` maps member names to whatever `read` needs."""

    def __init__(self, path: Path, cache_dir: Path, spacing: int):
        self.path = path
        self.spacing = spacing
        self.kind = "zip" if path.name.endswith(".zip") else ("tar" if path.name.endswith(".tar") else "targz")
        stat = path.stat()
        key = hashlib.sha1(f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:16]
        self.index_path = cache_dir / f"{path.name}.{key}.members.json"
        self.gzindex_path = cache_dir / f"{path.name}.{key}.gzidx"
        self.names: dict[str, Any] = self._load_index(cache_dir)
        self.top = _single_top_folder(list(self.names))

    def _load_index(self, cache_dir: Path) -> dict[str, Any]:
        if self.kind == "zip":
            with zipfile.ZipFile(self.path) as archive:
                return {_normalize(info.filename): info.filename for info in archive.infolist() if not info.is_dir()}
        if self.index_path.exists() and (self.kind == "tar" or self.gzindex_path.exists()):
            return json.loads(self.index_path.read_text())
        cache_dir.mkdir(parents=True, exist_ok=True)
        with self._open_raw(build=True) as handle, tarfile.open(fileobj=handle, mode="r:") as archive:
            names = {_normalize(m.name): [m.offset_data, m.size] for m in archive if m.isfile()}
            if self.kind == "targz":
                handle.seek(0, os.SEEK_END)  # finish the seek-point index over the whole stream
                tmp = self.gzindex_path.with_suffix(".tmp")
                handle.export_index(str(tmp))
                os.replace(tmp, self.gzindex_path)
        tmp = self.index_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(names))
        os.replace(tmp, self.index_path)
        return names

    def _open_raw(self, build: bool = False) -> Any:
        if self.kind == "tar":
            return open(self.path, "rb")
        index = None if build or not self.gzindex_path.exists() else str(self.gzindex_path)
        return indexed_gzip.IndexedGzipFile(
            str(self.path), spacing=self.spacing, index_file=index, buffer_size=1 << 20, drop_handles=False
        )

    def read(self, name: str, handles: OrderedDict) -> bytes:
        handle = handles.get(self.path)
        if handle is None:
            handle = zipfile.ZipFile(self.path) if self.kind == "zip" else self._open_raw()
            handles[self.path] = handle
            if len(handles) > _MAX_OPEN:
                handles.popitem(last=False)[1].close()
        handles.move_to_end(self.path)
        if self.kind == "zip":
            return handle.read(self.names[name])
        offset, size = self.names[name]
        handle.seek(offset)
        data = handle.read(size)
        if len(data) != size:
            raise OSError(f"{self.path}: member {name!r} is truncated ({len(data)} of {size} bytes)")
        return data


class MediaStore:
    """Media bytes by source-relative path, from folders and archives.

    Args:
        roots: folders and archive files; a folder's archives (`shard_*.tar.gz`, `images.zip`, …, searched one
            level deep) are added too, its loose files stay readable as `folder/<path>`.
        cache_dir: where archive indexes are kept (default: `$HF_HOME/mmreason/archive_index`).
        spacing: uncompressed bytes between gzip seek points (bounds the cost of one random read).
    """

    def __init__(
        self,
        roots: list[str | os.PathLike] | None = None,
        cache_dir: str | os.PathLike | None = None,
        spacing: int = 4 << 20,
    ):
        hf_home = os.environ.get("HF_HOME", os.path.join(os.path.expanduser("~"), ".cache", "huggingface"))
        self.cache_dir = Path(cache_dir or os.path.join(hf_home, "mmreason", "archive_index"))
        self.spacing = spacing
        self.folders: list[Path] = []
        self.archives: list[_Archive] = []
        self._members: dict[str, _Archive] = {}
        self._handles: OrderedDict = OrderedDict()
        for root in roots or []:
            self.add(root)

    def add(self, root: str | os.PathLike, archives: bool = True) -> None:
        """Add a folder (with `archives=True`, also the archives directly inside it or in its sub-folders) or an
        archive file."""
        root = Path(root)
        if root.is_dir():
            self.folders.append(root)
            for path in sorted(root.iterdir()) if archives else ():
                if path.is_file() and is_archive(path):
                    self._add_archive(path)
                elif path.is_dir():
                    for inner in sorted(path.iterdir()):
                        if inner.is_file() and is_archive(inner):
                            self._add_archive(inner)
        elif root.is_file() and is_archive(root):
            self._add_archive(root)
        else:
            raise FileNotFoundError(f"media root {root} is neither a folder nor a .tar/.tar.gz/.zip archive")

    def _add_archive(self, path: Path) -> None:
        archive = _Archive(path, self.cache_dir, self.spacing)
        self.archives.append(archive)
        for name in archive.names:
            self._members.setdefault(name, archive)

    def _locate(self, path: str) -> tuple[_Archive | None, str] | None:
        path = _normalize(path)
        for folder in self.folders:
            if (folder / path).is_file():
                return None, str(folder / path)
        if path in self._members:
            return self._members[path], path
        for archive in self.archives:
            if archive.top and archive.top + path in archive.names:
                return archive, archive.top + path
        return None

    def __contains__(self, path: str) -> bool:
        return self._locate(path) is not None

    def read(self, path: str) -> bytes:
        """The bytes of the media file at source-relative `path`."""
        found = self._locate(path)
        if found is None:
            raise MediaNotFoundError(
                f"{path!r} not found in {len(self.folders)} folder(s) and {len(self.archives)} archive(s)"
            )
        archive, name = found
        if archive is None:
            return Path(name).read_bytes()
        return archive.read(name, self._handles)

    def close(self) -> None:
        """Close the archive handles kept open for lazy reads."""
        while self._handles:
            self._handles.popitem()[1].close()

    def __enter__(self) -> MediaStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __getstate__(self) -> dict[str, Any]:  # picklable for datasets' multiprocessing
        return {**self.__dict__, "_handles": OrderedDict()}


__all__ = ["ARCHIVE_SUFFIXES", "MediaNotFoundError", "MediaStore", "is_archive"]
