"""A scripted OpenAI-compatible server on loopback for the pipeline tests.

`ScriptedServer(reply)` answers each `/v1/chat/completions` request with `n` choices (the request's `n`, as vLLM
does), each `reply(body)` (the request's JSON body), and records the bodies. `faults` is consumed one per request,
in arrival order, before any normal answer: `"500"`, `"429"` (with `Retry-After: 0`), `"timeout"` (sleeps past the
client's timeout and answers nothing) — what a served model does under load; `latency` delays every answer.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def last_text(body: dict[str, Any], role: str = "user") -> str:
    """The text of the last `role` message of a request body."""
    message = [m for m in body["messages"] if m["role"] == role][-1]
    content = message["content"]
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if part.get("type") == "text")


def has_image(body: dict[str, Any]) -> bool:
    """Whether any message of the request carries an image."""
    return any(
        part.get("type") == "image_url"
        for message in body["messages"]
        if isinstance(message["content"], list)
        for part in message["content"]
    )


class ScriptedServer:
    def __init__(self, reply: Callable[[dict[str, Any]], str], faults: list[str] | None = None, latency: float = 0.0,
                 timeout_sleep: float = 1.5):  # fmt: skip
        self.reply, self.faults, self.latency, self.timeout_sleep = reply, list(faults or []), latency, timeout_sleep
        self.requests: list[dict[str, Any]] = []
        self.injected: list[str] = []
        lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status: int, data: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with lock:
                    fault = outer.faults.pop(0) if outer.faults else None
                    if fault:
                        outer.injected.append(fault)
                if fault == "500":
                    return self._send(500, b'{"error": {"message": "overloaded"}}')
                if fault == "429":
                    return self._send(429, b'{"error": {"message": "slow down"}}', {"Retry-After": "0"})
                if fault == "timeout":  # the client gives up first; nothing is answered
                    time.sleep(outer.timeout_sleep)
                    self.close_connection = True
                    return
                with lock:
                    outer.requests.append(body)
                time.sleep(outer.latency)
                choices = [{"index": i, "finish_reason": "stop",
                            "message": {"role": "assistant", "content": outer.reply(body)}}
                           for i in range(int(body.get("n") or 1))]  # fmt: skip
                reply = {"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                         "choices": choices}  # fmt: skip
                self._send(200, json.dumps(reply).encode())

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
