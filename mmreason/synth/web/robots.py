"""robots.txt for the web fetcher ([`RobotsCache`]): fetched once per origin through the same guarded fetcher,
read with the standard library's `urllib.robotparser`, answers given per URL.

RFC 9309 §2.3.1: a robots.txt that is missing (4xx) allows everything; one that cannot be fetched (5xx,
connection failure, timeout, refusal) disallows everything — the fetcher does not crawl a site whose rules it
could not read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

ROBOTS_MAX_BYTES = 512 << 10  # RFC 9309 §2.5: at least 500 KiB must be parsed


class RobotsCache:
    """Per-origin robots.txt rules, kept across event loops (one per job batch) and fetchers.

    Args:
        agent: the user-agent token matched against `User-agent:` lines.
    """

    def __init__(self, agent: str) -> None:
        self.agent = agent
        self._rules: dict[str, RobotFileParser | tuple[str, bool] | None] = {}
        self._pending: dict[str, asyncio.Future] = {}

    async def refusal(self, url: str, fetch: Callable[[str], Awaitable[Any]]) -> tuple[str, bool] | None:
        """`(reason, retryable)` when robots.txt forbids fetching `url` (retryable: the robots.txt could not be
        read), or `None` when it allows it. `fetch`: `async (url) -> FetchResult`, not consulting robots.txt."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._rules:
            pending = self._pending.get(origin)
            if pending is None or pending.get_loop() is not asyncio.get_running_loop():
                pending = self._pending[origin] = asyncio.ensure_future(self._load(origin, fetch))
            self._rules[origin] = await pending
            self._pending.pop(origin, None)
        rules = self._rules[origin]
        if isinstance(rules, tuple):
            return rules
        if rules is None or rules.can_fetch(self.agent, url):
            return None
        return f"robots.txt of {parts.netloc} disallows {parts.path or '/'}", False

    async def _load(
        self, origin: str, fetch: Callable[[str], Awaitable[Any]]
    ) -> RobotFileParser | tuple[str, bool] | None:
        result = await fetch(f"{origin}/robots.txt")
        if result.refusal is not None:
            status = result.status
            if status is not None and 400 <= status < 500 and status != 429:
                return None  # no robots.txt: everything allowed
            if status is None and not result.retryable:  # the site itself is refused (address, scheme, TLS)
                return result.refusal, False
            return f"robots.txt of {urlsplit(origin).netloc} unreadable ({result.refusal}): site not crawled", True
        parser = RobotFileParser()
        parser.parse(result.body.decode("utf-8", errors="replace").splitlines())
        return parser


__all__ = ["ROBOTS_MAX_BYTES", "RobotsCache"]
