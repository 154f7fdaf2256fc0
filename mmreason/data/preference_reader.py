"""The corpus reader and spec for preference and PUMA pair rows: per-file sources, media roots and sampling plans.

[`PairReader`] is a [`CorpusReader`] (same resumable position, drop log and image checks) whose rows have their
own media columns and whose record files can carry a [`FilePlan`]: the row `source`, the folder the file's media
paths are relative to (MMPR's per-dataset `root`), which repeat of the file a pass is and which records it keeps
(MMPR's `repeat_time`). A media path is looked up as written under its root, then with leading folders of the
joined path dropped one at a time (so `MMPR-v1.2/images/M3CoT/a.jpg` is found as `images/M3CoT/a.jpg` in
`images.zip` or as `M3CoT/a.jpg` under `--media_dirs`), never below the root's last folder; an absolute path
that exists is read as is.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from .builders.base import CorpusSpec
from .corpus import CorpusReader, Item
from .media import MediaNotFoundError


@dataclass(frozen=True)
class FilePlan:
    """How to read one pass over a record file.

    Args:
        source: the rows' `source` ("" keeps the record's own).
        root: the folder (relative to the source folder, or absolute) the file's media paths are relative to.
        copy: which repeat of the file this pass is; copies after the first get `-r<copy>` appended to the id.
        keep: the record numbers (0-based, in file order) to keep; `None` keeps every record.
    """

    source: str = ""
    root: str = ""
    copy: int = 0
    keep: frozenset[int] | None = None


def media_candidates(path: str, root: str = "") -> list[str]:
    """Where to look for media `path` given under `root`: `root/path`, then that with leading folders dropped
    one at a time while a folder of the root (or, without a root, one folder above the file) is kept."""
    joined = PurePosixPath(root.replace("\\", "/"), path.replace("\\", "/")) if root else PurePosixPath(path)
    candidates = [str(joined)] if joined.is_absolute() else []
    parts = [part for part in joined.parts if part not in ("/", ".")]
    own = len(PurePosixPath(path.replace("\\", "/")).parts)
    keep = own + 1 if root else min(2, len(parts))
    candidates += ["/".join(parts[start:]) for start in range(0, max(len(parts) - keep, 0) + 1)]
    return candidates


@dataclass
class PairReader(CorpusReader):
    """A [`CorpusReader`] for preference / pair rows.

    Args:
        plans: one [`FilePlan`] per entry of `files` (a file listed twice is read twice); `None`: every file
            once, whole, media paths relative to the source folder.
    """

    plans: list[FilePlan] | None = None

    def _plan(self) -> FilePlan:
        return self.plans[self._file_index] if self.plans else FilePlan()

    def __iter__(self) -> Iterator[Item]:
        for item in super().__iter__():
            if item is not None:  # a record this pass does not keep
                yield item

    def _item(self, record: Any, path: Path, default_id: str) -> Item | None:
        plan = self._plan()
        number = self._file_records - 1
        if plan.keep is not None and number not in plan.keep:
            return None
        if plan.source:
            default_id = f"{plan.source}-{number}"
        item = super()._item(record, path, default_id)
        suffix = f"-r{plan.copy}" if plan.copy else ""
        if item.row is not None:
            item.row["id"] += suffix
            item.row["source"] = plan.source or item.row["source"]
        else:
            item.drop.id += suffix
        return item

    def _load(self, item: str | dict[str, Any]) -> dict[str, Any]:
        if not isinstance(item, str):
            return super()._load(item)
        root = self._plan().root
        candidates = media_candidates(item, root)
        for candidate in candidates:
            if os.path.isabs(candidate):
                if os.path.isfile(candidate):
                    return {"bytes": Path(candidate).read_bytes(), "path": candidate}
            elif candidate in self.media:
                return {"bytes": self.media.read(candidate), "path": candidate}
        where = f" under root {root!r}" if root else ""
        raise MediaNotFoundError(
            f"{item!r}{where} not found (tried {candidates}) in {len(self.media.folders)} folder(s) and "
            f"{len(self.media.archives)} archive(s)"
        )


@dataclass(frozen=True)
class PairCorpusSpec(CorpusSpec):
    """A [`CorpusSpec`] whose rows are preference or pair rows.

    Args:
        media_columns: the rows' `(messages column, media column, part type)` triples.
        plan: `source folder -> (record files, one FilePlan each)`; `None`: the subset's files, once each.
    """

    media_columns: tuple[tuple[str, str, str], ...] = ()
    plan: Callable[[Path], tuple[list[Path], list[FilePlan]]] | None = None

    def reader(self, subset: str, source: str | os.PathLike, **kwargs: Any) -> PairReader:
        """A [`PairReader`] over one subset of a local source folder (the media store of [`CorpusSpec.reader`])."""
        base = super().reader(subset, source, **kwargs)
        files, plans = self.plan(Path(source)) if self.plan is not None else (base.files, None)
        return PairReader(
            files, base.media, base.convert, base.check_images, base.position, self.media_columns, plans=plans
        )


__all__ = ["FilePlan", "PairCorpusSpec", "PairReader", "media_candidates"]
