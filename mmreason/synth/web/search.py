"""Search backends for web mining: seed → the links of pages that hold it ([`SearchStage`]).

* [`SerpAPILens`] — Google Lens through SerpAPI, as the seed's `google_search.py`: `{"engine": "google_lens",
  "url": <image URL>}`, links from `visual_matches[*].link`; the key from `SERPAPI_API_KEY`; one request per
  `min_interval` seconds (the seed's 1 s sleep), transient failures (429, 5xx, connection errors, timeouts)
  retried with exponential backoff by tenacity, a 429's `Retry-After` honoured; what still fails is a retryable
  failure the job runner retries on its next run.
* [`SavedSerpAPI`] — offline: a folder of saved SerpAPI replies (the seed's `data/*_urls/result_{i}.json`).
* [`URLList`] — offline: a text file of page URLs, one per line (`#` comments), each its own seed.

A backend gives the seed rows (`seeds()`: `{"id", "query"}`) and the links of one seed (`search(row, session)`).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any, Protocol

from ..stage import StageFailure

SERPAPI_ENDPOINT = "https://serpapi.com/search.json"


class SearchError(Exception):
    """A search that failed: `reason`, and whether a later try may succeed (`retryable`)."""

    def __init__(self, reason: str, retryable: bool = True) -> None:
        super().__init__(reason)
        self.reason, self.retryable = reason, retryable


class SearchBackend(Protocol):
    """What [`SearchStage`] runs."""

    name: str

    def settings(self) -> dict[str, Any]: ...

    def seeds(self) -> list[dict[str, Any]]: ...

    async def search(self, row: dict[str, Any], session: Any) -> list[str]: ...


def visual_match_links(reply: Any) -> list[str]:
    """`visual_matches[*].link` of a SerpAPI Google Lens reply (entries without a string link skipped).

    Raises:
        SearchError: the reply is not a JSON object, or reports an error other than "no results".
    """
    if not isinstance(reply, dict):
        raise SearchError("malformed SerpAPI reply: not a JSON object", retryable=False)
    error = reply.get("error")
    matches = reply.get("visual_matches")
    if error and not matches:
        if "hasn't returned any results" in str(error) or "no results" in str(error).lower():
            return []
        raise SearchError(f"SerpAPI error: {str(error)[:200]}", retryable=False)
    if not isinstance(matches, list):
        return []
    return [m["link"] for m in matches if isinstance(m, dict) and isinstance(m.get("link"), str) and m["link"]]


class SerpAPILens:
    """Google Lens via SerpAPI (see the module docstring).

    Args:
        image_urls: the seed images' public URLs (a seed's `query`); ids `seed-{i}` unless given as `(id, url)`.
        api_key: default `$SERPAPI_API_KEY`.
        endpoint: the API URL (a stand-in server in tests).
        min_interval: seconds between request starts.
        max_attempts: tries per seed within one run; timeout: seconds per try.
        backoff: the first retry's wait in seconds (doubling, at most 30 s) when the server names none.
    """

    name = "serpapi-lens"

    def __init__(self, image_urls: list[str] | list[tuple[str, str]], api_key: str | None = None,
                 endpoint: str = SERPAPI_ENDPOINT, min_interval: float = 1.0, max_attempts: int = 4,
                 timeout: float = 60.0, backoff: float = 1.0) -> None:  # fmt: skip
        self.api_key = api_key or os.environ.get("SERPAPI_API_KEY")
        if not self.api_key:
            raise ValueError("SerpAPI needs a key: set SERPAPI_API_KEY (or pass api_key)")
        self.image_urls = [(u if isinstance(u, tuple) else (f"seed-{i}", u)) for i, u in enumerate(image_urls)]
        self.endpoint, self.min_interval = endpoint, min_interval
        self.max_attempts, self.timeout, self.backoff = max_attempts, timeout, backoff
        self._next = 0.0
        self._lock: asyncio.Lock | None = None

    def settings(self) -> dict[str, Any]:
        """The engine (never the key)."""
        return {"backend": self.name, "engine": "google_lens", "endpoint": self.endpoint}

    def seeds(self) -> list[dict[str, Any]]:
        """One row per seed image."""
        return [{"id": seed_id, "query": url} for seed_id, url in self.image_urls]

    async def _wait_turn(self) -> None:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            delay = self._next - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self._next = time.monotonic() + self.min_interval

    async def search(self, row: dict[str, Any], session: Any) -> list[str]:
        """The seed's visual-match links."""
        import aiohttp
        from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

        params = {"engine": "google_lens", "url": row["query"], "api_key": self.api_key}
        transient = retry_if_exception(lambda e: isinstance(e, SearchError) and e.retryable)
        retrying = AsyncRetrying(stop=stop_after_attempt(self.max_attempts), reraise=True, retry=transient,
                                 wait=_retry_after_or(wait_exponential(multiplier=self.backoff, max=30)))  # fmt: skip
        async for attempt in retrying:
            with attempt:
                await self._wait_turn()
                try:
                    timeout = aiohttp.ClientTimeout(total=self.timeout)
                    async with session.get(self.endpoint, params=params, timeout=timeout) as response:
                        if response.status == 429 or response.status >= 500:
                            error = SearchError(f"SerpAPI HTTP {response.status}")
                            error.retry_after = _seconds(response.headers.get("Retry-After"))
                            raise error
                        text = await response.text()
                        if response.status >= 400:
                            raise SearchError(f"SerpAPI HTTP {response.status}: {text[:200]}", retryable=False)
                except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                    raise SearchError(f"SerpAPI request failed: {type(error).__name__}: {error}") from error
                try:
                    return visual_match_links(json.loads(text))
                except json.JSONDecodeError as error:
                    raise SearchError(f"malformed SerpAPI reply: {error}") from error
        return []  # unreachable: tenacity re-raises the last error


def _seconds(value: str | None) -> float | None:
    try:
        return min(float(value), 120.0) if value is not None else None
    except ValueError:
        return None


def _retry_after_or(fallback: Any) -> Any:
    """tenacity wait: a 429's `Retry-After` when the server sent one, else `fallback`."""

    def wait(state: Any) -> float:
        error = state.outcome.exception() if state.outcome else None
        after = getattr(error, "retry_after", None)
        return after if after is not None else fallback(state)

    return wait


class SavedSerpAPI:
    """Offline: saved SerpAPI replies, one JSON file per seed (`result_{i}.json`; the file stem is the seed id)."""

    name = "serpapi-saved"

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise ValueError(f"{folder}: not a folder of saved SerpAPI replies")

    def settings(self) -> dict[str, Any]:
        """The folder."""
        return {"backend": self.name, "folder": str(self.folder.resolve())}

    def seeds(self) -> list[dict[str, Any]]:
        """One row per JSON file, in natural order (`result_2` before `result_10`)."""
        files = sorted(self.folder.glob("*.json"), key=lambda p: (len(p.stem), p.stem))
        return [{"id": path.stem, "query": str(path)} for path in files]

    async def search(self, row: dict[str, Any], session: Any) -> list[str]:
        """The saved reply's visual-match links."""
        try:
            reply = json.loads(Path(row["query"]).read_text(encoding="utf-8", errors="replace"))
        except (OSError, json.JSONDecodeError, RecursionError) as error:
            raise SearchError(f"malformed SerpAPI file: {type(error).__name__}: {str(error)[:120]}", False) from error
        return visual_match_links(reply)


class URLList:
    """Offline: page URLs, one per line (blank lines and `#` comments skipped); each line is a seed."""

    name = "url-list"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        text = self.path.read_text(encoding="utf-8", errors="replace")
        self.urls = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]

    def settings(self) -> dict[str, Any]:
        """The file."""
        return {"backend": self.name, "path": str(self.path.resolve())}

    def seeds(self) -> list[dict[str, Any]]:
        """One row per URL."""
        return [{"id": f"line-{i}", "query": url} for i, url in enumerate(self.urls)]

    async def search(self, row: dict[str, Any], session: Any) -> list[str]:
        """The line's URL itself."""
        return [row["query"]]


class SearchStage:
    """Seed rows → one row of links per seed (`{"id": "<seed>-links", "seed_id", "query", "links"}`), up to
    `concurrency` searches at once."""

    name = "web-search"

    def __init__(self, backend: SearchBackend, concurrency: int = 4) -> None:
        import datasets

        self.backend, self.concurrency = backend, concurrency
        self.features = datasets.Features({"id": datasets.Value("string"), "seed_id": datasets.Value("string"),
                                           "query": datasets.Value("string"),
                                           "links": datasets.List(datasets.Value("string"))})  # fmt: skip

    def settings(self) -> dict[str, Any]:
        """The backend's settings."""
        return {"backend": self.backend.settings()}

    def process_batch(self, rows: list[dict[str, Any]]) -> list[list[dict[str, Any]] | StageFailure]:
        """Search the batch's seeds."""
        return asyncio.run(self._batch(rows))

    async def _batch(self, rows: list[dict[str, Any]]) -> list[list[dict[str, Any]] | StageFailure]:
        import aiohttp

        limit = asyncio.Semaphore(self.concurrency)

        async def one(row: dict[str, Any]) -> list[dict[str, Any]] | StageFailure:
            async with limit:
                try:
                    links = await self.backend.search(row, session)
                except SearchError as error:
                    return StageFailure(f"search: {error.reason}", retryable=error.retryable)
            return [{"id": f"{row['id']}-links", "seed_id": row["id"], "query": row["query"], "links": links}]

        async with aiohttp.ClientSession(trust_env=False) as session:
            return list(await asyncio.gather(*(one(row) for row in rows)))


__all__ = [
    "SERPAPI_ENDPOINT", "SavedSerpAPI", "SearchBackend", "SearchError", "SearchStage", "SerpAPILens", "URLList",
    "visual_match_links",
]  # fmt: skip
