"""The data report of a job: category mix, lengths, judge scores and pass rate, pairs per question, failure reasons —
numbers checked against hand counts of what the scripted backend made, plots checked to be PNG files."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from mmreason.synth import run_job
from mmreason.synth.pipelines.mammoth_rewrite import MammothRewriteStage
from mmreason.synth.pipelines.mmpr_pairs import MMPRCorrectnessStage
from mmreason.synth.report import job_stats, write_report

PNG = b"\x89PNG\r\n\x1a\n"


class ByPrompt:
    def __init__(self, answer):
        self.answer = answer

    def settings(self):
        return {"backend": "by-prompt"}

    def generate(self, conversations, sampling=None):
        return [self.answer(c[-1]["content"][-1]["text"]) for c in conversations]


def _row(rid: str, question: str, answer: str) -> dict:
    user = [{"type": "image", "text": None}, {"type": "text", "text": question}]
    return {
        "id": rid, "source": "toy", "category": "single_image", "quality_group": "",
        "messages": [{"role": "user", "content": user},
                     {"role": "assistant", "content": [{"type": "text", "text": answer}]}],
        "images": [Image.new("RGB", (4, 4))],
    }  # fmt: skip


def _mammoth(prompt: str) -> str:
    if prompt.startswith("You sort"):
        return next((f"Category: {c}" for c in "ABC" if f"[{c}]" in prompt), "no idea")
    if prompt.startswith(("Below is the caption", "Rewrite")):  # the rewritten question keeps the row's tag
        tag = next(f"[{c}]" for c in "ABC" if f"[{c}]" in prompt)
        return f"Question: {tag} q?\nAnswer: one two three four\nFinal answer: five"
    return "Score: 5\nVerdict: Yes\nReason: ok." if "[C]" not in prompt else "Score: 2\nVerdict: No\nReason: bad."


def test_report_of_a_mammoth_job(tmp_path: Path) -> None:
    rows = [_row("a", "[A] Describe.", "x"), _row("b", "[B] Count.", "2"), _row("c", "[C] Sum.", "9"),
            _row("d", "[B] Again.", "1"), _row("e", "Unsure.", "y")]  # fmt: skip
    run_job(MammothRewriteStage(ByPrompt(_mammoth)), rows, tmp_path, progress=False)
    stats = job_stats(tmp_path)
    assert stats.kind == "canonical" and stats.rows == 4
    assert stats.categories == {"B": 2, "A": 1, "C": 1}
    assert stats.lengths == {"assistant": [7, 7, 7, 7]}  # "one two three four\n\nFinal answer: five"
    assert stats.judge_scores == {2: 1, 5: 3} and stats.judge_pass_rate == 0.75
    assert stats.failure_steps == {"categorize": 1} and stats.pending_retries == 1 and stats.input_rows == 5
    report = write_report(tmp_path)
    text = report.read_text()
    assert "## Judge pass rate: 75.0% of 4 rows" in text and "| B | 2 | 50.0% |" in text
    assert "| categorize | 1 | 100.0% |" in text
    for png in ("category_mix.png", "lengths.png", "judge_scores.png", "failure_reasons.png"):
        assert (report.parent / png).read_bytes().startswith(PNG) and f"]({png})" in text
    assert json.loads((report.parent / "stats.json").read_text())["lengths"]["assistant"]["mean"] == 7


def test_report_of_an_mmpr_job(tmp_path: Path) -> None:
    answers = {"Find x": ["a\nb\nFinal answer: 3", "a\nb\nFinal answer: 5", "junk", "a\nb\nFinal answer: 3 3"],
               "Find y": ["a\nb\nFinal answer: 1", "a\nb\nFinal answer: 2"]}  # fmt: skip
    calls: dict[str, int] = {}

    def answer(prompt: str) -> str:
        key = next(k for k in answers if k in prompt)
        calls[key] = calls.get(key, 0) + 1
        return answers[key][(calls[key] - 1) % len(answers[key])]

    rows = [_row("q1", "Find x.", "3"), _row("q2", "Find y.", "7")]
    run_job(MMPRCorrectnessStage(ByPrompt(answer), num_samples=4), rows, tmp_path, progress=False)
    stats = job_stats(tmp_path)
    # q1: correct "3" x1, wrong "5" and "3 3" ("3" is contained in "3 3": skipped), format "junk" -> 1 + 1 pairs
    assert stats.kind == "preference" and stats.rows == 2
    assert stats.categories == {"correctness": 1, "format": 1}
    assert stats.pairs_per_question == {2: 1}
    assert stats.lengths == {"chosen": [5, 5], "rejected": [5, 1]}
    assert stats.failure_steps == {"all_wrong": 1} and stats.judge_pass_rate is None
    text = write_report(tmp_path, tmp_path / "elsewhere", title="MMPR").read_text()
    assert text.startswith("# MMPR") and "| 2 | 1 | 100.0% |" in text and "Judge" not in text
    assert (tmp_path / "elsewhere" / "pairs_per_question.png").read_bytes().startswith(PNG)
