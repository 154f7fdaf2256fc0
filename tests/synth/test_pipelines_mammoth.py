"""MAmmoTH-VL rewrite + filter: the reply parsers (hand cases and bounded fuzz), the routing of caption-only rows to
the text LLM without the image and of the others to the MLLM with it, the judge's recorded score and reason, and
failures with their reasons."""

from __future__ import annotations

import contextlib
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from mmreason.generation import GenerationError
from mmreason.synth import StageFailure
from mmreason.synth.pipelines.mammoth_rewrite import (
    Judgement,
    MammothRewriteStage,
    ParseError,
    Rewrite,
    parse_category,
    parse_judge,
    parse_rewrite,
)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Category: A", "A"),
        ("category: c", "C"),
        ("**Category:** B", "B"),
        ("I think this is reasoning-heavy.\nCategory: (C)", "C"),
        ("B", "B"),
        ("  **A**. ", "A"),
        ("Category\uff1aB", "B"),  # full-width colon
    ],
)
def test_parse_category(text: str, category: str) -> None:
    assert parse_category(text) == category


@pytest.mark.parametrize("text", ["", "Category: D", "Category: A\nCategory: B", "It depends.", "Alphabet"])
def test_parse_category_refuses(text: str) -> None:
    with pytest.raises(ParseError):
        parse_category(text)


def test_parse_rewrite() -> None:
    text = "Question: How many apples?\nAnswer: I count 2 red and 1 green.\nSo 3.\nFinal answer: 3\n"
    assert parse_rewrite(text) == Rewrite("How many apples?", "I count 2 red and 1 green.\nSo 3.", "3")
    bold = "**Question:** Q?\n**Answer:** step.\n**Final answer:** 7 cm\nextra line"
    assert parse_rewrite(bold) == Rewrite("Q?", "step.", "7 cm")
    assert Rewrite("Q?", "step.", "7 cm").answer == "step.\n\nFinal answer: 7 cm"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Answer: a\nFinal answer: b", "rewrite: no 'Question:' section"),
        ("Question: q\nFinal answer: b", "rewrite: no 'Answer:' section"),
        ("Question: q\nAnswer: a", "rewrite: no 'Final Answer:' section"),
        ("Answer: a\nQuestion: q\nFinal answer: b", "rewrite: sections out of order"),
        ("Question: q\nAnswer:\nFinal answer: b", "rewrite: empty 'Answer:' section"),
    ],
)
def test_parse_rewrite_refuses(text: str, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        parse_rewrite(text)


def test_parse_judge() -> None:
    assert parse_judge("Score: 4\nVerdict: Yes\nReason: Accurate and grounded.") == Judgement(
        4, True, "Accurate and grounded."
    )
    assert parse_judge("**Score:** 2/5\n**Verdict:** no\n**Reason:** The count is wrong.\nMore.") == Judgement(
        2, False, "The count is wrong."
    )
    for bad, reason in [("Verdict: Yes\nReason: r", "no 'Score"), ("Score: 9\nVerdict: Yes\nReason: r", "no 'Score"),
                        ("Score: 3\nReason: r", "no 'Verdict"), ("Score: 3\nVerdict: No", "no 'Reason")]:  # fmt: skip
        with pytest.raises(ParseError, match=reason):
            parse_judge(bad)


_TOKENS = [*"ABCabc:*()\n \uff1a5/\u00e9\u200b", "Category", "Question", "Answer", "Final answer", "Score", "Verdict",
           "Reason", "Yes", "No"]  # fmt: skip
_replies = st.lists(st.sampled_from(_TOKENS), max_size=80).map("".join)


@settings(max_examples=300, deadline=None)
@given(_replies)
def test_parsers_never_raise_anything_but_parse_error(text: str) -> None:
    for parse in (parse_category, parse_rewrite, parse_judge):
        try:
            result = parse(text)
        except ParseError:
            continue
        if parse is parse_category:
            assert result in ("A", "B", "C")
        elif parse is parse_judge:
            assert 1 <= result.score <= 5 and result.reason
        else:
            assert result.question and result.rationale and result.final and "\n" not in result.final


def test_parsers_are_linear_on_long_hostile_replies() -> None:
    hostile = ["Category: " * 20_000, "Question: Answer: " * 20_000, "**" * 50_000 + "Score:", "Reason: x\n" * 20_000]
    started = time.perf_counter()
    for text in hostile:
        for parse in (parse_category, parse_rewrite, parse_judge):
            with contextlib.suppress(ParseError):
                parse(text)
    assert time.perf_counter() - started < 5


class Scripted:
    """A backend answering by the prompt it gets; records every request."""

    def __init__(self, name: str, answers: dict[str, str | GenerationError]):
        self.name, self.answers, self.requests = name, answers, []

    def settings(self):
        return {"backend": self.name}

    def generate(self, conversations, sampling=None):
        self.requests += conversations
        texts = [c[-1]["content"][-1]["text"] for c in conversations]
        return [next(v for k, v in self.answers.items() if k in t) for t in texts]


def _row(rid: str, question: str, answer: str) -> dict:
    user = [{"type": "image", "text": None}, {"type": "text", "text": question}]
    return {
        "id": rid, "source": "chartqa", "category": "single_image", "quality_group": "",
        "messages": [{"role": "user", "content": user},
                     {"role": "assistant", "content": [{"type": "text", "text": answer}]}],
        "images": [Image.new("RGB", (7, 7), (1, 2, 3))],
    }  # fmt: skip


def test_stage_routes_rewrites_judges_and_records() -> None:
    text_llm = Scripted("text", {
        "Caption:": "Question: What stands left of the tree?\nAnswer: The caption puts a dog left of it.\n"
                    "Final answer: a dog",
        "Describe the image": "Category: A", "Which bar": "Category: B", "Sum of": "Category: C", "Bad one": "meh",
    })  # fmt: skip
    mllm = Scripted("mllm", {
        "Rewrite the instruction-tuning sample": "Question: Which bar is tallest?\nAnswer: Bar B reaches 40.\n"
                                                 "Final answer: B",
        "Which bar is tallest": "Score: 5\nVerdict: Yes\nReason: Matches the chart.",
        "What stands left": "Score: 2\nVerdict: No\nReason: No dog is visible.",
    })  # fmt: skip
    rows = [_row("r1", "Describe the image.", "A dog left of a tree."), _row("r2", "Which bar?", "B"),
            _row("r3", "Bad one", "x")]  # fmt: skip
    results = MammothRewriteStage(mllm, text_llm=text_llm).process_batch(rows)
    # caption-only row: rewritten by the text LLM from the caption, with no image part
    caption_request = next(r for r in text_llm.requests if "Caption:" in r[-1]["content"][-1]["text"])
    assert [p["type"] for p in caption_request[0]["content"]] == ["text"]
    assert "A dog left of a tree." in caption_request[0]["content"][0]["text"]
    # reasoning-light row: rewritten by the MLLM with its image and the light-depth instruction
    rewrite_request = next(r for r in mllm.requests if "Rewrite" in r[-1]["content"][-1]["text"])
    assert rewrite_request[0]["content"][0] == {"type": "image", "image": rows[1]["images"][0]}
    assert "short rationale" in rewrite_request[0]["content"][1]["text"]
    assert results[0] == [{
        "id": "r1-rw", "source": "chartqa", "category": "single_image", "quality_group": "",
        "messages": [{"role": "user", "content": [{"type": "image"},
                                                  {"type": "text", "text": "What stands left of the tree?"}]},
                     {"role": "assistant", "content": [{"type": "text", "text":
                         "The caption puts a dog left of it.\n\nFinal answer: a dog"}]}],
        "images": rows[0]["images"], "rewrite_category": "A", "judge_score": 2, "judge_verdict": "No",
        "judge_reason": "No dog is visible.", "judge_passed": False,
    }]  # fmt: skip
    assert results[1][0]["messages"][1]["content"][0]["text"] == "Bar B reaches 40.\n\nFinal answer: B"
    assert (results[1][0]["judge_score"], results[1][0]["judge_passed"]) == (5, True)
    assert results[2] == StageFailure("categorize: no 'Category: A/B/C' in 'meh'", retryable=True)
    # rejected rows dropped on request
    dropped = MammothRewriteStage(mllm, text_llm=text_llm, keep_rejected=False).process_batch(rows[:1])
    assert dropped == [[]]


def test_stage_failures_carry_their_step() -> None:
    mllm = Scripted("mllm", {"You sort": "Category: C", "Rewrite": GenerationError("RateLimitError: 429"),
                             "Sum": "unused"})  # fmt: skip
    results = MammothRewriteStage(mllm).process_batch([_row("r1", "Sum of bars?", "70"),
                                                       {**_row("r2", "q", "a"), "images": []}])  # fmt: skip
    assert results[0] == StageFailure("rewrite: generation failed (RateLimitError: 429)", retryable=True)
    assert results[1] == StageFailure("1 image parts for 0 images", retryable=False)
    (empty,) = MammothRewriteStage(mllm).process_batch([_row("r3", "Sum of bars?", "")])
    assert empty == StageFailure("no reference answer (empty assistant turn)", retryable=False)
    judged = Scripted("mllm", {"You sort": "Category: C", "Rewrite": "Question: q\nAnswer: a\nFinal answer: b",
                               "You check": "Looks fine to me."})  # fmt: skip
    (failure,) = MammothRewriteStage(judged).process_batch([_row("r1", "Sum of bars?", "70")])
    assert failure == StageFailure("judge: no 'Score: 1-5' in 'Looks fine to me.'", retryable=True)
    settings = MammothRewriteStage(judged).settings()
    assert settings["prompts"]["judge"]["id"] == "mammoth_judge@1" and settings["mllm"] == {"backend": "mllm"}
