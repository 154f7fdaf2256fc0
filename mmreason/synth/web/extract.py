"""[`ExtractStage`]: page rows → QA rows, the fourth stage of web mining: the extraction model reads the page's
`<document>` (prompt `web_qa_extract`), its Markdown reply is parsed ([`parse_qa_markdown`]), and the images it
names are localised — downloaded through the same [`SafeFetcher`] and kept under the seed's rules
([`decode_image`]).

An image the model names must be on the page (an `<img>` of its tree, or an `inline-image-K` name): a URL the
page does not hold is never downloaded (a model cannot make the crawler fetch an address it made up). Each
dropped image leaves a note with its reason in the row's `image_notes`.

A QA row: `id` (`<page id>-q<K>`), `page_id`, `url`, `domain`, `seed_ids`, `question`, `solution` ("Not found"
when the page has none), `question_images` and `solution_images` (PNG images), `image_notes`.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urljoin

from ..pipelines.common import backend_settings, model_step, sampling, text_part, user_message
from ..prompts import load_prompt
from ..stage import StageFailure
from .fetch import IMAGE_TYPES, FetchPolicy, SafeFetcher
from .images import ImageRefused, ImageRules, data_uri_bytes, decode_image
from .pages import tree_of
from .qa import parse_qa_markdown
from .robots import RobotsCache
from .tree import INLINE_PREFIX


def qa_features() -> Any:
    """The QA rows' `datasets.Features`."""
    import datasets

    text = datasets.Value("string")
    return datasets.Features({
        "id": text, "page_id": text, "url": text, "domain": text, "seed_ids": datasets.List(text),
        "question": text, "solution": text, "question_images": datasets.List(datasets.Image()),
        "solution_images": datasets.List(datasets.Image()), "image_notes": datasets.List(text),
    })  # fmt: skip


class ExtractStage:
    """Extract the questions of a batch of pages (one extraction request per page, all in one `generate` call)
    and download their images concurrently.

    Args:
        backend: the extraction model (any generation backend; a text LLM is enough).
        policy: the image fetcher's limits (the pages' fetch policy; images use `max_image_bytes`).
        rules: what an image must be to be kept.
        max_new_tokens: the extraction reply's budget.
        max_document_chars: the document is cut to this many characters for the prompt.
    """

    name = "web-extract"

    def __init__(self, backend: Any, policy: FetchPolicy | None = None, rules: ImageRules | None = None,
                 max_new_tokens: int = 4096, max_document_chars: int = 60_000) -> None:  # fmt: skip
        self.backend, self.policy, self.rules = backend, policy or FetchPolicy(), rules or ImageRules()
        self.max_document_chars = max_document_chars
        self.prompt = load_prompt("web_qa_extract")
        self.greedy = sampling(0.0, max_new_tokens=max_new_tokens)
        self.robots = RobotsCache(self.policy.robots_agent)
        self.features = qa_features()

    def settings(self) -> dict[str, Any]:
        """The prompt, the model and its decoding, the image rules and fetch limits."""
        from dataclasses import asdict

        return {"prompt": self.prompt.settings(), "backend": backend_settings(self.backend),
                "sampling": self.greedy.settings(), "rules": asdict(self.rules), "policy": self.policy.settings(),
                "max_document_chars": self.max_document_chars}  # fmt: skip

    def process_batch(self, rows: list[dict[str, Any]]) -> list[list[dict[str, Any]] | StageFailure]:
        """Extract, parse, localise."""
        results: list[Any] = [None] * len(rows)
        trees = {i: tree_of(row) for i, row in enumerate(rows)}
        for index, tree in trees.items():
            if not any(node.kind == "text" for node in tree.nodes):
                results[index] = []  # nothing to read: no request
        asked = {i: tree for i, tree in trees.items() if results[i] is None}
        replies = model_step(results, asked, "extract", self.backend, self.greedy, parse_qa_markdown,
                             lambda i, tree: [user_message([text_part(self._render(tree))])])  # fmt: skip
        wanted: dict[int, list[tuple[Any, list[list[str]], list[list[str]]]]] = {}
        downloads: set[str] = set()
        for index, items in replies.items():
            row, tree = rows[index], trees[index]
            on_page = {node.src for node in tree.images} | set(tree.inline_images)
            base = row.get("final_url") or row["url"]
            for item in items:
                question = self._resolve(item.question_images, on_page, tree.inline_images, base)
                solution = self._resolve(item.solution_images, on_page, tree.inline_images, base)
                downloads |= {url for url, _ in question + solution if url is not None and not url.startswith("data:")}
                wanted.setdefault(index, []).append((item, question, solution))
        images = asyncio.run(self._download(sorted(downloads))) if downloads else {}
        for index in replies:
            results[index] = [self._row(rows[index], k, item, question, solution, images)
                              for k, (item, question, solution) in enumerate(wanted.get(index, []))]  # fmt: skip
        return results

    def _render(self, tree: Any) -> str:
        document = tree.document()
        if len(document) > self.max_document_chars:
            document = document[: self.max_document_chars] + "\n</document>"
        return self.prompt.render(document=document)

    def _resolve(self, urls: list[str], on_page: set[str], inline: dict[str, str], base: str) -> list[tuple]:
        """`(absolute URL or data: URI, None)` per named image, or `(None, reason)` when it is not kept."""
        out: list[tuple] = []
        seen: set[str] = set()
        for url in urls:
            name = url.strip().strip("'\"")
            absolute = inline.get(name) if name.startswith(INLINE_PREFIX) else urljoin(base, name)
            if absolute in seen:
                continue
            if absolute is None or (absolute not in on_page and name not in on_page):
                out.append((None, f"{name[:120]}: not an image of the page"))
                continue
            seen.add(absolute)
            if len(seen) > self.rules.max_per_item:
                out.append((None, f"{name[:120]}: over {self.rules.max_per_item} images per question"))
                continue
            out.append((absolute, None))
        return out

    async def _download(self, urls: list[str]) -> dict[str, bytes | str]:
        """`url → PNG bytes` or `url → reason`, all downloads at once."""
        async with SafeFetcher(self.policy, self.robots) as fetcher:

            async def one(url: str) -> bytes | str:
                result = await fetcher.fetch(url, IMAGE_TYPES, self.policy.max_image_bytes)
                if not result.ok:
                    return f"download refused: {result.refusal}"
                try:
                    return decode_image(result.body, result.content_type, rules=self.rules)
                except ImageRefused as error:
                    return str(error)

            return dict(zip(urls, await asyncio.gather(*(one(url) for url in urls))))

    def _images(self, named: list[tuple], downloaded: dict[str, bytes | str], notes: list[str]) -> list[dict]:
        kept = []
        for url, reason in named:
            if url is None:
                notes.append(reason)
                continue
            if url.startswith("data:"):
                try:
                    data: bytes | str = decode_image(data_uri_bytes(url), inline=True, rules=self.rules)
                except ImageRefused as error:
                    data = str(error)
            else:
                data = downloaded[url]
            if isinstance(data, str):
                notes.append(f"{url[:120]}: {data}")
            else:
                kept.append({"bytes": data, "path": None})
        return kept

    def _row(self, row: dict, k: int, item: Any, question: list, solution: list, downloaded: dict) -> dict:
        notes: list[str] = []
        return {
            "id": f"{row['id']}-q{k}", "page_id": row["id"], "url": row["url"], "domain": row.get("domain") or "",
            "seed_ids": list(row.get("seed_ids") or []), "question": item.question, "solution": item.solution,
            "question_images": self._images(question, downloaded, notes),
            "solution_images": self._images(solution, downloaded, notes), "image_notes": notes,
        }  # fmt: skip


__all__ = ["ExtractStage", "qa_features"]
