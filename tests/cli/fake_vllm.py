"""A stand-in for vLLM's Python in `tests/cli/test_serve.py`: `-c CODE` succeeds (or fails when FAKE_VLLM_BROKEN is
set, as an environment without the plugin does) and prints a version; `-m vllm.entrypoints.openai.api_server ...`
records its arguments to $FAKE_VLLM_LOG and answers `/v1/models` on `--port` until terminated."""

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

if sys.argv[1] == "-c":
    if os.environ.get("FAKE_VLLM_BROKEN"):
        sys.exit("ModuleNotFoundError: No module named 'mmreason_vllm'")
    print("0.32.0")
    sys.exit(0)
assert sys.argv[1:3] == ["-m", "vllm.entrypoints.openai.api_server"], sys.argv
args = sys.argv[3:]
with open(os.environ["FAKE_VLLM_LOG"], "w") as log:
    json.dump(args, log)
port = int(args[args.index("--port") + 1])


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"object": "list", "data": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


HTTPServer(("127.0.0.1", port), Handler).serve_forever()
