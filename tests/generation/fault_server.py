"""A loopback OpenAI-compatible stand-in that injects faults: latency, 429 with Retry-After, 500s, timeouts
(a reply held past the client's timeout), malformed JSON, truncated bodies, non-JSON pages and empty choices.

`plan(body, attempt)` names the fault of a request's `attempt`-th arrival (0-based; requests are told apart by
their last text part, so a plan is deterministic whatever the concurrency) or `None` for an answer. An answer has
`n` choices (`body["n"]`), choice `k` being `reply(body, k)`. Used by the generation tests and, as its own
process (`python -m tests.generation.fault_server --latency 0.2 --failure_rate 0.05`: prints its URL, serves
`GET /stats`), by benchmarks/bench_synth.py.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAULTS = ("429", "500", "timeout", "malformed", "truncated", "html", "empty")


def last_text(body: dict[str, Any]) -> str:
    """The text of the request's last message (its last text part)."""
    content = body["messages"][-1]["content"]
    if isinstance(content, str):
        return content
    return [p["text"] for p in content if p.get("type") == "text"][-1]


def failure_plan(rate: float) -> Callable[[dict[str, Any], int], str | None]:
    """Each arrival fails with probability `rate` (half 500s, half 429s), drawn from the request and attempt."""

    def plan(body: dict[str, Any], attempt: int) -> str | None:
        draw = random.Random(f"{last_text(body)}:{attempt}").random()
        return None if draw >= rate else ("500" if draw < rate / 2 else "429")

    return plan


def default_reply(body: dict[str, Any], k: int) -> str:
    """`"Answer: 42"` for the first choice, `"Answer: 42 (k)"` for the others."""
    return "Answer: 42" if k == 0 else f"Answer: 42 ({k})"


class FaultServer:
    """The stand-in server (a `ThreadingHTTPServer` on 127.0.0.1, HTTP/1.1 keep-alive).

    Args:
        plan: the fault of each arrival (see the module docstring); default none.
        latency: seconds every answer and 5xx/429 waits before it is sent.
        retry_after: the `Retry-After` header of a 429, in seconds (sent as `retry-after-ms` too).
        hang: how long a `"timeout"` arrival holds its reply.
        reply: the text of choice `k` of an answer.
        ignore_n: answer one choice whatever `n` asks (as servers without `n` support do).
    """

    def __init__(
        self,
        plan: Callable[[dict[str, Any], int], str | None] | None = None,
        latency: float = 0.0,
        retry_after: float = 0.05,
        hang: float = 3.0,
        reply: Callable[[dict[str, Any], int], str] = default_reply,
        ignore_n: bool = False,
    ):
        self.ignore_n = ignore_n
        self.plan, self.latency, self.retry_after, self.hang, self.reply = plan, latency, retry_after, hang, reply
        self.requests: list[dict[str, Any]] = []
        self.events: list[tuple[str, str]] = []  # (request text, fault or "ok") in arrival order
        self.arrived: dict[str, list[float]] = {}  # request text -> monotonic arrival times
        self.inflight = self.max_inflight = 0
        self.arrivals: Counter = Counter()
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # no `/v1/models` listing: the served geometry goes unchecked
                if self.path == "/stats":
                    stats = {"faults": outer.faults(), "max_inflight": outer.max_inflight}
                    return _send(self, 200, json.dumps(stats).encode())
                _send(self, 404, b'{"error": {"message": "not found"}}')

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer._serve(self, body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def close(self) -> None:
        """Stop serving."""
        self.httpd.shutdown()
        self.httpd.server_close()

    def faults(self) -> Counter:
        """How many arrivals got each fault (`"ok"`: answered)."""
        return Counter(fault for _, fault in self.events)

    def _serve(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        key = last_text(body)
        with self.lock:
            attempt = self.arrivals[key]
            self.arrivals[key] += 1
            fault = self.plan(body, attempt) if self.plan else None
            self.requests.append(body)
            self.events.append((key, fault or "ok"))
            self.arrived.setdefault(key, []).append(time.monotonic())
            self.inflight += 1
            self.max_inflight = max(self.max_inflight, self.inflight)
        try:
            time.sleep(self.hang if fault == "timeout" else self.latency)
            self._respond(handler, body, fault)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout)
            handler.close_connection = True
        finally:
            with self.lock:
                self.inflight -= 1

    def _respond(self, handler: BaseHTTPRequestHandler, body: dict[str, Any], fault: str | None) -> None:
        if fault == "429":
            seconds = str(self.retry_after)
            _send(handler, 429, b'{"error": {"message": "rate limited"}}',
                  {"Retry-After": seconds, "retry-after-ms": str(int(self.retry_after * 1000))})  # fmt: skip
        elif fault == "500":
            _send(handler, 500, b'{"error": {"message": "overloaded"}}')
        elif fault == "malformed":
            _send(handler, 200, b'{"id": "x", "object": "chat.completion", "choices": [{"index": 0, "mess')
        elif fault == "html":
            _send(handler, 200, b"<html>502 bad gateway</html>", content_type="text/html")
        elif fault == "truncated":
            data = json.dumps(self._completion(body)).encode()
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data[: len(data) // 2])
            handler.wfile.flush()
            handler.close_connection = True
        elif fault == "empty":
            _send(handler, 200, json.dumps({**self._completion(body), "choices": []}).encode())
        else:
            _send(handler, 200, json.dumps(self._completion(body)).encode())

    def _completion(self, body: dict[str, Any]) -> dict[str, Any]:
        count = 1 if self.ignore_n else int(body.get("n") or 1)
        messages = [{"role": "assistant", "content": self.reply(body, k)} for k in range(count)]
        choices = [{"index": k, "finish_reason": "stop", "message": m} for k, m in enumerate(messages)]
        return {"id": "x", "object": "chat.completion", "created": 0, "model": body["model"], "choices": choices}


def _send(handler: BaseHTTPRequestHandler, status: int, data: bytes, headers: dict[str, str] | None = None,
          content_type: str = "application/json") -> None:  # fmt: skip
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(data)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(data)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="the fault-injecting stand-in as a process")
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--failure_rate", type=float, default=0.0)
    parser.add_argument("--retry_after", type=float, default=0.2)
    options = parser.parse_args()
    plan = failure_plan(options.failure_rate) if options.failure_rate else None
    server = FaultServer(plan=plan, latency=options.latency, retry_after=options.retry_after)
    print(server.url, flush=True)
    sys.stdin.read()  # serve until the parent closes stdin
