"""Each pipeline end to end as a job (`run_job`): against a scripted OpenAI-compatible server on loopback that injects
500s, a 429, a timeout and latency (the OpenAI backend's retries absorb them), and against the in-process
transformers backend on the tiny random model. Expected rows are written out by hand from the server's script."""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from PIL import Image

from mmreason.generation import OpenAIBackend, TransformersBackend
from mmreason.synth import run_job
from mmreason.synth.outputs import read_failures
from mmreason.synth.pipelines.dropout_ntp import DropoutNTPStage, dropout_prefix
from mmreason.synth.pipelines.mammoth_rewrite import MammothRewriteStage
from mmreason.synth.pipelines.mmpr_pairs import MMPRCorrectnessStage
from tests.synth.pipeline_stand_in import ScriptedServer, has_image, last_text

FAULTS = ["500", "429", "timeout", "500"]


def reply(answer: str) -> str:
    return f"Look at the figure.\nCompute.\nFinal answer: {answer}"


def canonical(rid: str, question: str, answer: str, image: bool = True) -> dict[str, Any]:
    parts = ([{"type": "image", "text": None}] if image else []) + [{"type": "text", "text": question}]
    return {
        "id": rid, "source": "toyqa", "category": "single_image" if image else "text", "quality_group": "",
        "messages": [{"role": "user", "content": parts},
                     {"role": "assistant", "content": [{"type": "text", "text": answer}]}],
        "images": [Image.new("RGB", (12, 10), (len(rid) * 40 % 256, 90, 30))] if image else [], "videos": [],
    }  # fmt: skip


def committed(out: Path) -> dict[str, dict[str, Any]]:
    from mmreason.synth.outputs import job_data_files

    rows = [r for f in job_data_files(out) for r in pq.read_table(f).to_pylist()]
    assert len({r["id"] for r in rows}) == len(rows)
    return {r["id"]: r for r in rows}


def text(messages: list[dict[str, Any]]) -> str:
    return "".join(p["text"] or "" for m in messages for p in m["content"] if p["type"] == "text")


@pytest.fixture
def server_factory():
    servers = []

    def make(reply_fn, faults=FAULTS, latency=0.02):
        server = ScriptedServer(reply_fn, faults=list(faults), latency=latency)
        servers.append(server)
        return server, OpenAIBackend(server.url, "served", timeout=1.0, max_retries=6, concurrency=4,
                                     system_prompt=None)  # fmt: skip

    yield make
    for server in servers:
        server.close()


def test_mmpr_pairs_against_the_stand_in_resamples_all_wrong_questions(tmp_path: Path, server_factory) -> None:
    script = {"Find x": [reply("3"), reply("5"), "garbage"],
              "Find y": [reply("1"), reply("2"), reply("4"), reply("9"), reply("4"), reply("9")]}  # fmt: skip
    seen, lock = defaultdict(int), threading.Lock()

    def answer(body):
        key = next(k for k in script if k in last_text(body))
        with lock:
            seen[key] += 1
            return script[key][seen[key] - 1]

    server, backend = server_factory(answer)
    rows = [canonical("q1", "Find x.", "3"), canonical("q2", "Find y.\nAnswer the question using a single word or "
                                                              "phrase.", "9", image=False)]  # fmt: skip
    stage = MMPRCorrectnessStage(backend, num_samples=3)
    first = run_job(stage, rows, tmp_path, batch_size=2, progress=False)
    assert server.injected == FAULTS and first.pending_retries == 1 and first.output_rows == 2
    assert [f["reason"] for f in read_failures(tmp_path)] == [
        "all_wrong: no correct answer in 3 samples (re-sampled next run)"
    ]
    second = run_job(stage, rows, tmp_path, batch_size=2, progress=False)
    assert second.done and second.processed_this_run == 1
    out = committed(tmp_path)
    assert {i: (r["source"], text(r["chosen"]), text(r["rejected"]), r["answer_gt"]) for i, r in out.items()} == {
        "q1-c0": ("toyqa_pairs_vqa_correctness_rules", reply("3"), reply("5"), "3"),
        "q1-f0": ("toyqa_pairs_vqa_format_rules", reply("3"), "garbage", "3"),
        "q2-c0": ("toyqa_pairs_vqa_correctness_rules", reply("9"), reply("4"), "9"),  # two identical chosen: deduped
    }
    assert len(out["q1-c0"]["images"]) == 1 and out["q2-c0"]["images"] == []
    asked = [last_text(b) for b in server.requests if "Find y" in last_text(b)]
    assert asked[0].endswith("Question:\n\nFind y.")  # the short-answer instruction stripped
    assert all(b["temperature"] == 1.0 for b in server.requests)
    assert has_image(next(b for b in server.requests if "Find x" in last_text(b)))


def test_dropout_ntp_against_the_stand_in(tmp_path: Path, server_factory) -> None:
    server, backend = server_factory(lambda body: " then it flies away.")
    chosen = "A small bird sits on a thin branch in the rain."
    run = run_job(DropoutNTPStage(backend), [canonical("d1", "Describe the image.", chosen)], tmp_path,
                  progress=False)  # fmt: skip
    assert run.done and run.output_rows == 1
    row = committed(tmp_path)["d1-ntp"]
    assert text(row["chosen"]) == chosen
    assert text(row["rejected"]) == "A small bird sits on then it flies away."  # 11 tokens -> 5 kept
    (body,) = server.requests
    assert not has_image(body)  # continued without the image
    assert body["messages"][-1] == {"role": "assistant", "content": [{"type": "text", "text": "A small bird sits on"}]}


def test_dropout_ntp_asks_the_server_to_continue_the_prefix(tmp_path: Path, server_factory) -> None:
    server, backend = server_factory(lambda body: " more.", faults=[])
    run_job(DropoutNTPStage(backend), [canonical("d1", "Describe.", "one two three four")], tmp_path, progress=False)
    (body,) = server.requests
    # vLLM's extra_body={"continue_final_message": True, "add_generation_prompt": False}, merged into the body
    assert body.get("continue_final_message") is True and body.get("add_generation_prompt") is False


def _mammoth_reply(body: dict[str, Any], glitched: set[str]) -> str:
    prompt = last_text(body)
    if prompt.startswith("You sort"):
        if "Glitch" in prompt and "Glitch" not in glitched:
            glitched.add("Glitch")
            return "I cannot decide."
        return "Category: A" if "Describe" in prompt else "Category: B" if "How many" in prompt else "Category: C"
    if prompt.startswith("Below is the caption"):
        return "Question: What is left of the tree?\nAnswer: The caption says a dog is.\nFinal answer: a dog"
    if prompt.startswith("Rewrite"):
        question = re.search(r"Question:\n(.*)\n\nReference answer:\n(.*)\n", prompt)
        return f"Question: {question[1]}\nAnswer: Step by step from the image.\nFinal answer: {question[2]}"
    verdict = "No" if "left of the tree" in prompt else "Yes"
    return f"**Score:** {2 if verdict == 'No' else 5}\n**Verdict:** {verdict}\n**Reason:** checked."


def test_mammoth_rewrite_against_the_stand_in(tmp_path: Path, server_factory) -> None:
    glitched: set[str] = set()
    server, backend = server_factory(lambda body: _mammoth_reply(body, glitched))
    rows = [canonical("m1", "Describe the image.", "A dog left of a tree."), canonical("m2", "How many dots?", "4"),
            canonical("m3", "Glitch: sum the bars?", "70")]  # fmt: skip
    first = run_job(MammothRewriteStage(backend), rows, tmp_path, batch_size=3, progress=False)
    assert first.pending_retries == 1
    assert read_failures(tmp_path)[0]["reason"] == "categorize: no 'Category: A/B/C' in 'I cannot decide.'"
    assert run_job(MammothRewriteStage(backend), rows, tmp_path, batch_size=3, progress=False).done
    out = committed(tmp_path)
    assert {i: (r["rewrite_category"], text(r["messages"]), r["judge_score"], r["judge_passed"], r["judge_reason"])
            for i, r in out.items()} == {
        "m1-rw": ("A", "What is left of the tree?The caption says a dog is.\n\nFinal answer: a dog", 2, False,
                  "checked."),
        "m2-rw": ("B", "How many dots?Step by step from the image.\n\nFinal answer: 4", 5, True, "checked."),
        "m3-rw": ("C", "Glitch: sum the bars?Step by step from the image.\n\nFinal answer: 70", 5, True, "checked."),
    }  # fmt: skip
    caption_rewrite = next(b for b in server.requests if last_text(b).startswith("Below is the caption"))
    assert not has_image(caption_rewrite)
    assert all(has_image(b) for b in server.requests if last_text(b).startswith(("Rewrite", "You check")))
    assert all(len(r["images"]) == 1 for r in out.values())


@pytest.fixture(scope="module")
def tiny_backend(tiny):
    return TransformersBackend(tiny, batch_size=4, max_new_tokens=6, system_prompt=None)


def test_pipelines_on_the_in_process_tiny_model(tmp_path: Path, tiny_backend) -> None:
    rows = [canonical("t1", "How many dots?", "two small dots on a line"),
            canonical("t2", "What is this?", "a plain square image", image=False)]  # fmt: skip
    ntp = run_job(DropoutNTPStage(tiny_backend, max_new_tokens=6), rows, tmp_path / "ntp", progress=False)
    assert ntp.done and ntp.output_rows + ntp.pending_retries == 2
    for row in committed(tmp_path / "ntp").values():
        chosen = text(row["chosen"])
        assert text(row["rejected"]).startswith(dropout_prefix(chosen)) and text(row["rejected"]) != chosen
    # the random model never writes "Final answer:": every question is all wrong and waits for re-sampling
    mmpr = run_job(MMPRCorrectnessStage(tiny_backend, num_samples=2, max_new_tokens=6), rows, tmp_path / "mmpr",
                   progress=False)  # fmt: skip
    assert (mmpr.output_rows, mmpr.pending_retries) == (0, 2)
    assert {f["reason"] for f in read_failures(tmp_path / "mmpr")} == {
        "all_wrong: no correct answer in 2 samples (re-sampled next run)"
    }
    mammoth = run_job(MammothRewriteStage(tiny_backend, max_new_tokens=6), rows, tmp_path / "mammoth",
                      progress=False)  # fmt: skip
    assert mammoth.output_rows == 0 and mammoth.pending_retries == 2
    assert all(f["reason"].startswith("categorize: no 'Category: A/B/C'") for f in read_failures(tmp_path / "mammoth"))
