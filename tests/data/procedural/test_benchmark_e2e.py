"""`mmreason eval --benchmark procedural --data <saved folder>` end to end, against a stand-in served model that
solves a problem only when its prompt describes the scene (the independent solver over the text-rich twin) and
otherwise answers "2": text views score 100%, vision views exactly the share of golds that are "2"."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from mmreason.cli.eval import main
from mmreason.data import procedural

from .solver import solve_prompt


class SolvingServer:
    """An OpenAI-compatible chat endpoint answering with the solver (no `/v1/models`: 404, as a plain server)."""

    def __init__(self):
        self.requests = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                self.send_response(404)
                self.end_headers()

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append(body)
                content = body["messages"][-1]["content"]
                text = "".join(part.get("text", "") for part in content if part["type"] == "text")
                answer = solve_prompt(text)
                reply = f"I read the description.\nFinal answer: {answer}" if answer else "Final answer: 2"
                choice = {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": reply}}
                reply_body = {"id": "x", "object": "chat.completion", "created": 0, "model": body["model"]}
                data = json.dumps({**reply_body, "choices": [choice]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"


def test_the_blind_answer_is_right_on_some_rows():
    """The vision-view check below is not vacuous: the stand-in's blind "2" is right on some rows of each level."""
    test = procedural.splits.split_problems(3, 5, 12)["test"]
    assert all("2" in [p.answer for p in test[level]] for level in ("easy", "hard"))


def test_eval_cli_runs_the_procedural_benchmark_on_a_saved_folder(tmp_path, capsys):
    data = procedural.save(tmp_path / "set", seed=3, n_train=5, n_test=12)
    server = SolvingServer()
    try:
        main(["--model", "solver", "--base_url", server.url, "--benchmark", "procedural", "--data", str(data),
              "--output_dir", str(tmp_path / "out")])  # fmt: skip
    finally:
        server.httpd.shutdown()
    assert len(server.requests) == 4 * 12
    images = [p for r in server.requests for p in r["messages"][-1]["content"] if p["type"] == "image_url"]
    assert len(images) == 4 * 12  # every row was asked with its image
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed["benchmark"] == "procedural" and printed["missing"] == 0
    results = json.loads((tmp_path / "out" / "procedural" / "results.json").read_text())
    for mode in ("strict", "official"):
        by_subset = results["metrics"][mode]["subset"]
        for level in ("easy", "hard"):
            assert by_subset[f"{level}_text"]["accuracy"] == 1.0
            golds = [p.answer for p in procedural.splits.split_problems(3, 5, 12)["test"][level]]
            assert by_subset[f"{level}_vision"]["accuracy"] == golds.count("2") / 12
            assert by_subset[f"{level}_vision"]["count"] == 12
