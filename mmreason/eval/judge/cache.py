"""A persistent cache of judge replies: one JSONL file, one line per answered prompt, append-only.

A key is the hash of the judge's identity (endpoint host, model) and the full prompt text, so a resumed or
re-scored run never asks the same judge the same thing twice, and another judge never reads this one's replies.
Failures are not cached: a rerun asks again. A last line cut short by a crash is dropped on opening.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path


def cache_key(host: str, model: str, prompt: str) -> str:
    """sha256 of (host, model, prompt)."""
    return hashlib.sha256(json.dumps([host, model, prompt], ensure_ascii=False).encode()).hexdigest()


class JudgeCache:
    """`{key: reply}` backed by `path` (JSONL lines `{"key", "prompt_name", "reply"}`); thread-safe."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._replies: dict[str, str] = {}
        if self.path.exists():
            data = self.path.read_bytes()
            if data and not data.endswith(b"\n"):  # a line cut short by a crash: dropped, so appends stay lines
                os.truncate(self.path, data.rfind(b"\n") + 1)
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    record = json.loads(line)
                    self._replies[record["key"]] = record["reply"]
                except (json.JSONDecodeError, KeyError, TypeError):
                    continue  # not a record (hand-edited): ignored

    def get(self, key: str) -> str | None:
        """The cached reply, or `None`."""
        return self._replies.get(key)

    def put(self, key: str, prompt_name: str, reply: str) -> None:
        """Record a reply (appended and flushed at once)."""
        with self._lock:
            self._replies[key] = reply
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps({"key": key, "prompt_name": prompt_name, "reply": reply}) + "\n")

    def __len__(self) -> int:
        return len(self._replies)


__all__ = ["JudgeCache", "cache_key"]
