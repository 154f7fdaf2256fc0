"""Web mining throughput: pages/s through fetch + accessibility tree (`FetchStage`, the guarded fetcher) at 64-way
concurrency on the loopback fixture site, against the concurrency-bound ideal and a plain aiohttp crawl with the
same tree (the seed's approach: no address checks, no robots.txt, no caps); then tree-building throughput on one
core over generated real-world-shaped pages (head with styles and scripts, menus, sidebars, nested posts,
tables, images, comments), with lxml's parse alone as the parser's ceiling.

The site (`tests/synth/web/site.py`) runs in its own process and answers every page after `--latency` seconds
(200 ms), from 8 hostnames (all 127.0.0.1); the ideal is `concurrency / latency` pages/s.

    python benchmarks/bench_web.py [--concurrency 64] [--latency 0.2] [--waves 8] [--sizes 60 300 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.synth.web.site

from mmreason.synth.web.fetch import FetchPolicy
from mmreason.synth.web.pages import FetchStage
from mmreason.synth.web.tree import build_tree, parse_html
from tests.synth.web.site import realistic_page

ROOT = Path(__file__).resolve().parents[1]
HOSTS = [f"b{i}.test" for i in range(8)]


def start_site(latency: float) -> tuple[subprocess.Popen, int]:
    """The fixture site in a child process, and its port."""
    command = [sys.executable, "-m", "tests.synth.web.site", "--latency", str(latency)]
    process = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    return process, int(process.stdout.readline())


def urls(port: int, count: int) -> list[dict]:
    return [{"id": f"u{i}", "url": f"http://{HOSTS[i % len(HOSTS)]}:{port}/bench/{i}.html",
             "domain": HOSTS[i % len(HOSTS)]} for i in range(count)]  # fmt: skip


def guarded(rows: list[dict], concurrency: int) -> float:
    policy = FetchPolicy(allow_networks=["127.0.0.1"], resolve=dict.fromkeys(HOSTS, "127.0.0.1"),
                         concurrency=concurrency, per_domain=max(10, concurrency // len(HOSTS)))  # fmt: skip
    stage = FetchStage(policy)  # built once per job (its features import datasets): not timed
    start = time.perf_counter()
    results = stage.process_batch(rows)
    seconds = time.perf_counter() - start
    assert all(isinstance(r, list) and r[0]["nodes"] for r in results), "a page failed"
    return seconds


def plain(rows: list[dict], concurrency: int, port: int) -> float:
    """aiohttp + a semaphore + the same tree: what the seed's downloader does (ssl=False, nothing checked)."""
    import aiohttp

    async def run() -> None:
        limit = asyncio.Semaphore(concurrency)
        resolver = {host: "127.0.0.1" for host in HOSTS}

        async def one(session: aiohttp.ClientSession, row: dict) -> None:
            async with limit:
                url = row["url"].replace(row["domain"], resolver[row["domain"]])
                async with session.get(url, headers={"Host": f"{row['domain']}:{port}"}) as response:
                    body = await response.read()
            build_tree(body.decode("utf-8", "replace"), row["url"])

        connector = aiohttp.TCPConnector(limit=concurrency, ssl=False)
        async with aiohttp.ClientSession(connector=connector) as session:
            await asyncio.gather(*(one(session, row) for row in rows))

    start = time.perf_counter()
    asyncio.run(run())
    return time.perf_counter() - start


def tree_throughput(size_kb: int, pages: int = 20) -> dict:
    corpus = [realistic_page(seed, size_kb) for seed in range(pages)]
    megabytes = sum(len(page.encode()) for page in corpus) / 1e6
    timings = {}
    for name, work in (("tree", lambda p: build_tree(p, "https://example.org/q/1")), ("lxml parse", parse_html)):
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            for page in corpus:
                work(page)
            best = min(best, time.perf_counter() - start)
        timings[name] = best
    return {"size_kb": round(megabytes * 1000 / pages), "pages_per_s": round(pages / timings["tree"], 1),
            "mb_per_s": round(megabytes / timings["tree"], 1),
            "parse_only_pages_per_s": round(pages / timings["lxml parse"], 1)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--waves", type=int, default=8)
    parser.add_argument("--sizes", type=int, nargs="+", default=[60, 300, 1000])
    args = parser.parse_args()
    results: dict = {"fetch": [], "tree": []}
    process, port = start_site(args.latency)
    try:
        rows = urls(port, args.concurrency * args.waves)
        plain(rows[: args.concurrency], args.concurrency, port)  # warm the site's page cache
        ideal = args.concurrency / args.latency
        print(f"{'route':<10}{'pages':>7}{'s':>8}{'pages/s':>9}{'ideal':>8}{'x ideal':>9}")
        for route in ("plain", "guarded"):
            seconds = guarded(rows, args.concurrency) if route == "guarded" else plain(rows, args.concurrency, port)
            rate = len(rows) / seconds
            results["fetch"].append({"route": route, "pages": len(rows), "seconds": round(seconds, 2),
                                     "pages_per_s": round(rate, 1), "ideal": ideal,
                                     "vs_ideal": round(rate / ideal, 3)})  # fmt: skip
            print(f"{route:<10}{len(rows):>7}{seconds:>8.2f}{rate:>9.1f}{ideal:>8.0f}{rate / ideal:>9.3f}", flush=True)
    finally:
        process.stdin.close()
        process.wait()
    print(f"\n{'page KB':>8}{'tree pages/s':>14}{'MB/s':>7}{'parse-only pages/s':>20}")
    for size in args.sizes:
        r = tree_throughput(size)
        results["tree"].append(r)
        print(
            f"{r['size_kb']:>8}{r['pages_per_s']:>14}{r['mb_per_s']:>7}{r['parse_only_pages_per_s']:>20}", flush=True
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
