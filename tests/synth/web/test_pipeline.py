"""The whole mining pipeline in process: URL list → harvest → guarded fetch of the loopback fixture site (good
pages and every hostile case) → extraction, validity, consistency, alignment by the loopback stand-in model →
canonical rows. Expected rows are written out by hand from the site's pages and the stand-in's script
(`tests/synth/web/model.py`)."""

from __future__ import annotations

import json

import datasets
import pytest
from PIL import Image

from mmreason.data.validate import RowValidator
from mmreason.generation import OpenAIBackend
from mmreason.synth.outputs import job_data_files, read_failures
from mmreason.synth.web.fetch import FetchPolicy
from mmreason.synth.web.pipeline import MiningConfig, mine, read_rows
from mmreason.synth.web.refine import ANSWER_SUFFIX
from mmreason.synth.web.search import URLList
from mmreason.synth.web.urls import HarvestConfig, url_id, url_key
from mmreason.testing import build_tiny
from tests.synth.pipeline_stand_in import ScriptedServer
from tests.synth.web.model import reply
from tests.synth.web.site import HOSTILE, PAGES
from tests.synth.web.test_fetch import HOSTILE as REFUSALS

SOLVED = "Reading the figure and the data.\nComputing step by step.\nAnswer: {}"


def seed_urls(site) -> list[str]:
    good = [site.url(host, path) for host, path in PAGES]
    hostile = [site.url("math.test", path) for path in HOSTILE]
    junk = ["file:///etc/passwd", "javascript:alert(1)", site.url("spam.test", "/q/x.html"),
            site.url("math.test", "/q/triangle.html#top"),
            site.url("MATH.test", "/q/triangle.html?utm_source=x")]  # fmt: skip
    return good + hostile + junk


def mining_config(root, site, server, **overrides) -> MiningConfig:
    (root / "urls.txt").write_text("\n".join(seed_urls(site)))
    backend = OpenAIBackend(server.url, "served", system_prompt=None, concurrency=8, timeout=10)
    return MiningConfig(
        search=URLList(root / "urls.txt"), extract_backend=backend, retry_rounds=1,
        harvest=HarvestConfig(blocklist=frozenset({"spam.test"}), skip_top_domains=0),
        policy=FetchPolicy(allow_networks=["127.0.0.1"], resolve=site.resolve, timeout=1.5, max_bytes=1 << 20),
        **overrides,
    )  # fmt: skip


@pytest.fixture(scope="module")
def mined(site, tmp_path_factory):
    root = tmp_path_factory.mktemp("mine")
    server = ScriptedServer(reply)
    config = mining_config(root, site, server)
    secret = site.requests[("math.test", "/private/secret.html")]  # other tests may have asked for it
    summaries = mine(root / "out", config)
    assert site.requests[("math.test", "/private/secret.html")] == secret  # robots.txt: never asked for
    yield root / "out", summaries, server
    server.close()


def rows_of(out) -> dict[str, dict]:
    rows = datasets.load_dataset(str(out / "rows" / "data"), split="train")
    return {row["url"].split("/", 3)[-1]: row for row in rows}


def test_good_pages_become_the_expected_rows(mined, site):
    out, _, _ = mined
    rows = rows_of(out)
    assert sorted(rows) == ["gallery.html", "malformed.html", "q/graph.html", "q/mismatch.html", "q/speed.html",
                            "q/triangle.html"]  # fmt: skip
    triangle = rows["q/triangle.html"]
    assert triangle["id"] == url_id(url_key(site.url("math.test", "/q/triangle.html"))) + "-q0-vwi"
    assert triangle["messages"] == [
        {"role": "user", "content": [{"type": "image", "text": None}, {"type": "text", "text": (
            "Find the area of the right triangle with legs 3 and 4." + ANSWER_SUFFIX)}]},
        {"role": "assistant", "content": [{"type": "text", "text": SOLVED.format(6)}]},
    ]  # fmt: skip
    assert [image.size for image in triangle["images"]] == [(200, 150)]  # the 16x16 icon is under 100 px
    assert (triangle["subject"], triangle["is_aligned"], triangle["answer_source"], triangle["agreement"],
            triangle["category"], triangle["source"]) == ("math", True, "model", "4/4", "single_image",
                                                          "visualwebinstruct-mined")  # fmt: skip
    graph = rows["q/graph.html"]  # SVG rendered; the inline PNG decoded; the animated GIF dropped
    assert [image.size for image in graph["images"]] == [(240, 160), (120, 110)]
    assert graph["category"] == "multi_image"
    speed = rows["q/speed.html"]
    assert speed["images"] == [] and speed["subject"] == "physics" and speed["category"] == "text"
    assert speed["messages"][1]["content"][0]["text"] == SOLVED.format(5)
    malformed = rows["malformed.html"]  # malformed markup read; the decompression-bomb image refused
    assert malformed["messages"][0]["content"] == [{"type": "text", "text": (
        "Compute 7 * 8. bold nested text cell cell 2" + ANSWER_SUFFIX)}]  # fmt: skip
    mismatch = rows["q/mismatch.html"]  # not aligned: the web answer, no suffix
    assert mismatch["messages"][0]["content"][0]["text"] == "What is 9 + 10?"
    assert mismatch["messages"][1]["content"][0]["text"] == "The web page says 21. Answer: 21"
    assert (mismatch["is_aligned"], mismatch["answer_source"]) == (False, "web")
    gallery = rows["gallery.html"]  # 10,000 images: 200 in the tree, 8 named for download, 3 kept by validity
    assert len(gallery["images"]) == 3


def test_every_refusal_and_rejection_is_recorded(mined, site):
    out, _, _ = mined
    fetch = {record["reason"] for record in read_failures(out / "pages")}
    assert fetch == {f"fetch: {reason.format(port=site.port)}" for reason, _ in REFUSALS.values()}
    refine = sorted(record["reason"] for record in read_failures(out / "rows"))
    assert refine == ["rejected: inconsistent answers (2/4 agree)", "rejected: invalid question (spam)"]
    harvest = json.loads((out / "urls" / "harvest.json").read_text())
    assert (harvest["invalid"], harvest["duplicates"], harvest["blocked"]) == (2, 2, 1)
    qa = datasets.load_dataset(str(out / "qa" / "data"), split="train")
    notes = [note for row in qa for note in row["image_notes"]]
    assert sum("not an image of the page" in note for note in notes) == len(qa)  # the made-up URL, never fetched
    assert sum("over 8 images per question" in note for note in notes) == 192
    assert any("decompression bomb refused" in note for note in notes)
    assert any("animated GIF dropped" in note for note in notes) and any("under 100 px" in note for note in notes)
    report = (out / "report" / "report.md").read_text()
    assert "| pages | 20 | 9 | 11 |" in report and "| rows | 8 | 6 | 2 |" in report
    assert "| math | 5 |" in report and "| physics | 1 |" in report
    assert "Pages cut by the tree's limits (images, text, elements, nesting): 1." in report  # the 10,000-image page


def test_rows_are_ready_for_sft(mined):
    out, _, _ = mined
    _, processor = build_tiny()
    validator = RowValidator(processor, max_length=None)
    rows = datasets.load_dataset(str(out / "rows" / "data"), split="train")
    for row in rows:
        check = validator.check(row)
        assert not check.issues, check.issues
    assert all(isinstance(image, Image.Image) for row in rows for image in row["images"])
    assert sum(len(row["images"]) for row in rows) == 1 + 2 + 3  # triangle, graph, gallery


def test_a_rerun_is_a_no_op(mined, site):
    out, _, server = mined
    before = len(server.requests)
    config = MiningConfig(search=None, extract_backend=None, policy=FetchPolicy(resolve=site.resolve))
    summaries = mine(out, config)  # every stage is frozen: nothing is fetched or asked again
    assert summaries == dict.fromkeys(("search", "urls", "pages", "qa", "rows")) and len(server.requests) == before


def test_two_workers_give_the_single_process_pages(mined, site, tmp_path):
    out, _, server = mined
    # search, harvest and fetch on datatrove's local executor, two ranks each (the model stages run on the same engine)
    mine(tmp_path / "out", mining_config(tmp_path, site, server, workers=2, until="pages"))
    sharded = read_rows(job_data_files(tmp_path / "out" / "pages"))  # one folder per rank; empty shards skipped
    single = datasets.load_dataset(str(out / "pages" / "data"), split="train")
    assert len(single) == 9
    assert sorted(sharded.to_list(), key=lambda row: row["id"]) == sorted(single.to_list(), key=lambda row: row["id"])
