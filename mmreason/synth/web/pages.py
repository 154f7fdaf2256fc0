"""[`FetchStage`]: URL rows → page rows (fetched through [`SafeFetcher`], decoded, turned into the accessibility
tree), the third stage of web mining.

A page row: `id` (the URL row's), `url`, `final_url`, `domain`, `seed_ids`, `status`, `encoding`, `html_bytes`,
`nodes` (the tree: `{"kind", "text", "src", "alt"}` in page order), `images_seen` and `truncated` (what the tree's
limits cut). A URL that cannot be fetched is a failure with the fetcher's reason (retryable for timeouts,
connection errors, 429 and 5xx), so every refusal is in the job's `failures.jsonl`.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Any

from ..stage import StageFailure
from .encoding import decode_html
from .fetch import HTML_TYPES, FetchPolicy, SafeFetcher
from .robots import RobotsCache
from .tree import Node, PageTree, TreeLimits, build_tree


def page_features() -> Any:
    """The page rows' `datasets.Features`."""
    import datasets

    text = datasets.Value("string")
    node = {"kind": text, "text": text, "src": text, "alt": text}
    return datasets.Features({
        "id": text, "url": text, "final_url": text, "domain": text, "seed_ids": datasets.List(text),
        "status": datasets.Value("int32"), "encoding": text, "html_bytes": datasets.Value("int64"),
        "nodes": datasets.List(node), "images_seen": datasets.Value("int32"), "truncated": datasets.List(text),
    })  # fmt: skip


def tree_of(row: dict[str, Any]) -> PageTree:
    """The [`PageTree`] stored in a page row."""
    nodes = [Node(n["kind"], n.get("text") or "", n.get("src") or "", n.get("alt") or "") for n in row["nodes"]]
    return PageTree(nodes, int(row.get("images_seen") or 0), list(row.get("truncated") or []))


class FetchStage:
    """Fetch and parse a batch of URLs at once (the fetcher's `concurrency` and `per_domain` limits apply).

    Args:
        policy: the fetcher's limits.
        limits: the tree's caps.
    """

    name = "web-fetch"

    def __init__(self, policy: FetchPolicy | None = None, limits: TreeLimits | None = None) -> None:
        self.policy, self.limits = policy or FetchPolicy(), limits or TreeLimits()
        self.robots = RobotsCache(self.policy.robots_agent)
        self.features = page_features()

    def settings(self) -> dict[str, Any]:
        """The fetch policy and the tree limits (the `resolve` overrides are connection details, not settings)."""
        return {"policy": self.policy.settings(), "tree": asdict(self.limits)}

    def process_batch(self, rows: list[dict[str, Any]]) -> list[list[dict[str, Any]] | StageFailure]:
        """Fetch the batch's URLs concurrently; build each page's tree as it arrives."""
        return asyncio.run(self._batch(rows))

    async def _batch(self, rows: list[dict[str, Any]]) -> list[list[dict[str, Any]] | StageFailure]:
        async with SafeFetcher(self.policy, self.robots) as fetcher:
            return list(await asyncio.gather(*(self._one(fetcher, row) for row in rows)))

    async def _one(self, fetcher: SafeFetcher, row: dict[str, Any]) -> list[dict[str, Any]] | StageFailure:
        result = await fetcher.fetch(row["url"], HTML_TYPES)
        if not result.ok:
            return StageFailure(f"fetch: {result.refusal}", retryable=result.retryable)
        text, encoding = decode_html(result.body, result.content_type)
        tree = build_tree(text, result.final_url, self.limits)
        nodes = [{"kind": node.kind, "text": node.text, "src": node.src, "alt": node.alt} for node in tree.nodes]
        return [{
            "id": row["id"], "url": row["url"], "final_url": result.final_url, "domain": row.get("domain") or "",
            "seed_ids": list(row.get("seed_ids") or []), "status": result.status or 0, "encoding": encoding,
            "html_bytes": len(result.body), "nodes": nodes,
            "images_seen": tree.images_seen, "truncated": tree.truncated,
        }]  # fmt: skip


__all__ = ["FetchStage", "page_features", "tree_of"]
