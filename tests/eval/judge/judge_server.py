"""A local stand-in for an OpenAI-compatible judge: answers each judge prompt deterministically from the request.

* extraction prompts (MathVista, MathVerse stage 1) and DynaMath's reformat: the model response inside the prompt
  is read; a parenthesised letter "(B)" gives "B", else its last number, else "null";
* MathVerse's judgement prompt: "1" when the last `[Model_answer]` equals the last `[Standard Answer]`, else "0";
* any other request (a model's generation): `generation_reply`.
A request whose text contains "JUDGE-FAIL" gets HTTP 500 (every time); `"WRONG-FORMAT"` gets "maybe".
"""

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_LETTER = re.compile(r"\(([A-E])\)")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _extract(text: str) -> str:
    letters = _LETTER.findall(text)
    if letters:
        return letters[-1]
    numbers = _NUMBER.findall(text)
    return numbers[-1] if numbers else "null"


def judge_reply(prompt: str) -> str | None:
    """The stand-in judge's reply, or `None` when `prompt` is not a judge prompt."""
    if prompt.endswith("\nJudgement:") and "[Standard Answer]: " in prompt:  # the official prompt is stripped
        gold = prompt.rsplit("[Standard Answer]: ", 1)[1].split("\n", 1)[0]
        extraction = prompt.rsplit("[Model_answer] : ", 1)[1].rsplit("\nJudgement:", 1)[0]
        return "maybe" if "WRONG-FORMAT" in prompt else ("1" if gold.strip() == extraction.strip() else "0")
    if prompt.endswith("'\nExtracted Answer: "):  # MathVerse: the quoted response is the last one
        return _extract(prompt.rsplit("Model response: '", 1)[1])
    if prompt.endswith("\n\nExtracted answer: "):  # MathVista: the response follows the query's last blank line
        return _extract(prompt[: -len("\n\nExtracted answer: ")].rsplit("\n\n", 1)[1])
    if prompt.startswith("Free-form answer: "):
        return _extract(prompt.rsplit("\nInstruction: ", 1)[0])
    return None


class JudgeServer:
    """`url` serves `/v1/chat/completions`; `requests` holds every request body received, `keys` its
    Authorization header."""

    def __init__(self, generation_reply: str = "I think it is 12."):
        self.requests: list[dict] = []
        self.keys: list[str | None] = []  # each request's Authorization header
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append(body)
                outer.keys.append(self.headers.get("Authorization"))
                content = body["messages"][-1]["content"]
                text = content if isinstance(content, str) else " ".join(p.get("text", "") for p in content)
                if "JUDGE-FAIL" in text:
                    self.send_response(500)
                    self.end_headers()
                    self.wfile.write(b'{"error": {"message": "overloaded"}}')
                    return
                reply = judge_reply(text)
                reply = generation_reply if reply is None else reply
                data = json.dumps({
                    "id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": reply}}],
                }).encode()  # fmt: skip
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def prompts(self) -> list[str]:
        """The user-turn text of every request received."""
        return [body["messages"][-1]["content"] for body in self.requests]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
