"""A local stand-in for an OpenAI-compatible server: fails the first `failures` requests with 500, then answers
"Answer: 42" (with `usage` when given `prompt_tokens`); `GET /v1/models` lists `models` as vLLM does (`id`,
`owned_by: "vllm"`, `root`), or 404 without."""

import base64
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image


def request_images(body: dict) -> list[Image.Image]:
    """The images of a chat request's last message, decoded from their data URIs."""
    parts = body["messages"][-1]["content"]
    urls = [part["image_url"]["url"] for part in parts if part["type"] == "image_url"]
    return [Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB") for url in urls]


def send_json(handler: BaseHTTPRequestHandler, payload: object, status: int = 200) -> None:
    """Answer a request with `payload` as JSON."""
    data = json.dumps(payload).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


class StandInServer:
    def __init__(self, failures: int, models: list[dict] | None = None, prompt_tokens=None):
        """`prompt_tokens(body)`: the `usage.prompt_tokens` to report for a request (no usage without it)."""
        self.requests, self.failures, self.models = [], failures, models
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                if outer.models is None or self.path.rstrip("/") != "/v1/models":
                    self.send_response(404)
                    self.end_headers()
                    return
                send_json(self, {"object": "list", "data": [
                    {"object": "model", "created": 0, "owned_by": "vllm", "max_model_len": 4096, **m}
                    for m in outer.models
                ]})  # fmt: skip

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append(body)
                if outer.failures > 0 or "fail-always" in json.dumps(body):
                    outer.failures -= 1
                    self.send_response(500)
                    self.end_headers()
                    self.wfile.write(b'{"error": {"message": "overloaded"}}')
                    return
                reply = {"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                         "choices": [{"index": 0, "finish_reason": "stop",
                                      "message": {"role": "assistant", "content": "Answer: 42"}}]}  # fmt: skip
                if prompt_tokens is not None:
                    reply["usage"] = {"prompt_tokens": prompt_tokens(body), "completion_tokens": 1, "total_tokens": 0}
                send_json(self, reply)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"


_Server = StandInServer
