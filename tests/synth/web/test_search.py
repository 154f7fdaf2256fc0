"""Search backends: SerpAPI's Google Lens against a loopback stand-in (the seed's request; 429 with Retry-After and
5xx retried; 4xx and malformed replies reported), saved SerpAPI folders (malformed files), URL lists."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from mmreason.synth import run_job
from mmreason.synth.outputs import read_failures
from mmreason.synth.web.search import SavedSerpAPI, SearchStage, SerpAPILens, URLList, visual_match_links

LENS = {"search_metadata": {"status": "Success"},
        "visual_matches": [{"position": 1, "title": "Triangle", "link": "https://a.com/q/1"},
                           {"position": 2, "title": "No link"}, {"position": 3, "link": "https://b.org/x#y"},
                           "junk", {"link": 7}]}  # fmt: skip


def test_visual_match_links():
    assert visual_match_links(LENS) == ["https://a.com/q/1", "https://b.org/x#y"]
    assert visual_match_links({"error": "Google Lens hasn't returned any results for this query."}) == []
    assert visual_match_links({"search_metadata": {}}) == []
    with pytest.raises(Exception, match="Invalid API key"):
        visual_match_links({"error": "Invalid API key."})


class Lens:
    """A SerpAPI stand-in: `script` maps an image URL to the statuses it answers in turn (then 200)."""

    def __init__(self, script: dict[str, list[int]]):
        self.script, self.queries = {k: list(v) for k, v in script.items()}, []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                outer.queries.append(query)
                statuses = outer.script.get(query["url"], [])
                status = statuses.pop(0) if statuses else 200
                body = json.dumps(LENS if status == 200 else {"error": f"status {status}"}).encode()
                if query["url"].endswith("broken.png") and status == 200:
                    body = b"{not json"
                self.send_response(status)
                if status == 429:
                    self.send_header("Retry-After", "0")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/search.json"


def test_serpapi_lens_retries_and_reports(tmp_path, monkeypatch):
    monkeypatch.setenv("SERPAPI_API_KEY", "k-123")
    lens = Lens({"https://img/ok.png": [429, 500], "https://img/down.png": [503] * 9,
                 "https://img/forbidden.png": [401]})  # fmt: skip
    images = ["https://img/ok.png", "https://img/down.png", "https://img/forbidden.png", "https://img/broken.png"]
    backend = SerpAPILens(images, endpoint=lens.url, min_interval=0.0, max_attempts=3, backoff=0.01)
    backend_settings = backend.settings()
    assert "k-123" not in json.dumps(backend_settings)
    summary = run_job(SearchStage(backend), backend.seeds(), tmp_path / "search", progress=False)
    lens.server.shutdown()
    assert summary.output_rows == 1 and summary.pending_retries == 2 and summary.permanent_failures == 1
    assert {"engine": "google_lens", "url": "https://img/ok.png", "api_key": "k-123"} in lens.queries
    assert sum(q["url"] == "https://img/ok.png" for q in lens.queries) == 3  # 429, 500, then the answer
    assert sum(q["url"] == "https://img/down.png" for q in lens.queries) == 3  # max_attempts
    reasons = {r["id"]: (r["reason"], r["retryable"]) for r in read_failures(tmp_path / "search")}
    assert reasons["seed-1"] == ("search: SerpAPI HTTP 503", True)
    assert reasons["seed-2"][0].startswith("search: SerpAPI HTTP 401") and not reasons["seed-2"][1]
    assert reasons["seed-3"][0].startswith("search: malformed SerpAPI reply") and reasons["seed-3"][1]


def test_serpapi_needs_a_key(monkeypatch):
    monkeypatch.delenv("SERPAPI_API_KEY", raising=False)
    with pytest.raises(ValueError, match="SERPAPI_API_KEY"):
        SerpAPILens(["https://img/a.png"])


def test_saved_folder_and_url_list(tmp_path):
    folder = tmp_path / "forum_urls"
    folder.mkdir()
    (folder / "result_2.json").write_text(json.dumps(LENS))
    (folder / "result_10.json").write_text(json.dumps({"visual_matches": [{"link": "https://c.net/p"}]}))
    (folder / "result_3.json").write_text("{truncated")
    (folder / "result_4.json").write_text("[" * 100_000 + "]" * 100_000)  # deep nesting
    saved = SavedSerpAPI(folder)
    assert [row["id"] for row in saved.seeds()] == ["result_2", "result_3", "result_4", "result_10"]
    results = SearchStage(saved).process_batch(saved.seeds())
    assert results[0][0]["links"] == ["https://a.com/q/1", "https://b.org/x#y"]
    assert results[3][0]["links"] == ["https://c.net/p"]
    assert results[1].reason.startswith("search: malformed SerpAPI file") and not results[1].retryable
    assert not isinstance(results[2], list) and not results[2].retryable
    listed = tmp_path / "urls.txt"
    listed.write_text("# seeds\nhttps://a.com/1\n\n  https://b.com/2  \n")
    urls = URLList(listed)
    assert [r[0]["links"] for r in SearchStage(urls).process_batch(urls.seeds())] == [["https://a.com/1"],
                                                                                     ["https://b.com/2"]]  # fmt: skip
