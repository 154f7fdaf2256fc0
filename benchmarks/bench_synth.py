"""Served-generation throughput for synthesis: rows/s of `OpenAIBackend` (async, `openai.AsyncOpenAI` under an
`asyncio.Semaphore`) against the concurrency-bound ideal, side by side with the VisualWebInstruct-style anchor (a
plain `ThreadPoolExecutor` over requests, each thread calling the sync `openai.OpenAI` client).

The server is the loopback stand-in of the generation tests (`tests/generation/fault_server.py`), run as its own
process (a server in the client's process would compete with it for the GIL): every answer,
500 and 429 waits `--latency` (200 ms) before it is sent; with `--failure_rate` (5%) each arrival of a request is,
independently and reproducibly (seeded by the request and attempt), a 500 or a 429 with `Retry-After:
--retry_after` instead of an answer. Both clients use the same `max_retries` (the openai client's retries and
backoff). Each row is one request with a 64x64 PNG (sent as is) and a short question, `--waves` times the
concurrency rows per run, all in one `generate` call (one job-runner batch). The ideal is `concurrency / latency`
rows/s; "lost" counts rows that still failed after the retries.

    python benchmarks/bench_synth.py [--concurrency 16 64] [--failure_rate 0.05] [--latency 0.2] [--waves 10]
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.generation.fault_server

from mmreason.generation import GenerationError, OpenAIBackend
from mmreason.generation.openai_messages import to_openai_messages
from mmreason.testing import make_image

ROOT = Path(__file__).resolve().parents[1]
#: OpenAIBackend (openai's httpx stack, then aiohttp) and the thread-pool anchor
ROUTES = ("async", "async+aiohttp", "threads")


def start_server(latency: float, rate: float, retry_after: float) -> tuple[subprocess.Popen, str]:
    """The stand-in in a child process, and its URL."""
    command = [sys.executable, "-m", "tests.generation.fault_server", "--latency", str(latency),
               "--failure_rate", str(rate), "--retry_after", str(retry_after)]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    return process, process.stdout.readline().strip()


def rows(count: int) -> list[list[dict[str, Any]]]:
    """`count` single-image requests (PNG bytes, a distinct question each)."""
    buffer = io.BytesIO()
    make_image(64, 64, seed=0).save(buffer, format="PNG")
    png = buffer.getvalue()
    return [[{"role": "user", "content": [{"type": "image", "image": png},
                                          {"type": "text", "text": f"Question {i}: what is shown?"}]}]
            for i in range(count)]  # fmt: skip


def async_route(url: str, concurrency: int, max_retries: int, http: str = "httpx") -> Callable[[list], list[Any]]:
    """`OpenAIBackend.generate` (built before the clock starts, as a job builds it once)."""
    backend = OpenAIBackend(url, "served", concurrency=concurrency, max_retries=max_retries, timeout=30.0,
                            system_prompt=None, max_new_tokens=64, http=http)  # fmt: skip
    return backend.generate


def thread_pool_route(url: str, concurrency: int, max_retries: int) -> Callable[[list], list[Any]]:
    """The anchor: one thread per in-flight request, the sync client, errors kept as values."""
    import openai

    client = openai.OpenAI(base_url=url, api_key="EMPTY", max_retries=max_retries, timeout=30.0)

    def one(conversation: list[dict[str, Any]]) -> Any:
        try:
            reply = client.chat.completions.create(model="served", messages=to_openai_messages(conversation),
                                                   max_tokens=64, temperature=0.0)  # fmt: skip
            return reply.choices[0].message.content
        except openai.OpenAIError as error:
            return GenerationError(str(error))

    def run(conversations: list) -> list[Any]:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            return list(pool.map(one, conversations))

    return run


def measure(route: str, concurrency: int, rate: float, args: argparse.Namespace) -> dict[str, Any]:
    process, url = start_server(args.latency, rate, args.retry_after)
    conversations = rows(concurrency * args.waves)
    try:
        if route == "threads":
            runner = thread_pool_route(url, concurrency, args.max_retries)
        else:
            runner = async_route(
                url, concurrency, args.max_retries, "aiohttp" if route == "async+aiohttp" else "httpx"
            )
        start = time.perf_counter()
        outputs = runner(conversations)
        seconds = time.perf_counter() - start
        with urllib.request.urlopen(url.removesuffix("/v1") + "/stats") as response:
            stats = json.loads(response.read())
    finally:
        process.stdin.close()
        process.wait()
    faults = stats["faults"]
    faults = {"500": faults.get("500", 0), "429": faults.get("429", 0)}
    ideal = concurrency / args.latency
    achieved = len(conversations) / seconds
    return {
        "route": route, "concurrency": concurrency, "failure_rate": rate, "rows": len(conversations),
        "seconds": round(seconds, 3), "rows_per_s": round(achieved, 1), "ideal_rows_per_s": round(ideal, 1),
        "vs_ideal": round(achieved / ideal, 3), "injected": faults["500"] + faults["429"],
        "lost": sum(isinstance(o, GenerationError) for o in outputs), "max_in_flight": stats["max_inflight"],
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--failure_rate", type=float, default=0.05)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--retry_after", type=float, default=0.2)
    parser.add_argument("--waves", type=int, default=10)
    parser.add_argument("--max_retries", type=int, default=5)
    args = parser.parse_args()
    results = []
    header = f"{'route':<15}{'conc':>5}{'fail':>6}{'rows':>6}{'s':>8}{'rows/s':>9}{'ideal':>8}{'x ideal':>9}"
    print(header + f"{'injected':>10}{'lost':>6}{'in flight':>11}")
    for concurrency in args.concurrency:
        for rate in (0.0, args.failure_rate):
            for route in ROUTES:
                r = measure(route, concurrency, rate, args)
                results.append(r)
                print(f"{r['route']:<15}{r['concurrency']:>5}{r['failure_rate']:>6.0%}{r['rows']:>6}{r['seconds']:>8.2f}"
                      f"{r['rows_per_s']:>9.1f}{r['ideal_rows_per_s']:>8.0f}{r['vs_ideal']:>9.3f}{r['injected']:>10}"
                      f"{r['lost']:>6}{r['max_in_flight']:>11}", flush=True)  # fmt: skip
    print(json.dumps(results))


if __name__ == "__main__":
    main()
