"""MMPR correctness pairs: InternVL's parser asserts, `answer_fix`, the strict correctness check and pair building
(entailment skip, the 15-pair cap, format negatives kept apart, all-wrong questions) on hand-built samples.

Every expected value is written out by hand from InternVL's code as quoted in `../shared/reference/algorithms.md`
§4.4 (`extract_answer_from_mpo`, `fix_answer`, `build_pairs_based_on_pos_neg`); where InternVL draws pairs with
`random.sample`, the expected draw is `random.Random(0).sample` of the hand-listed candidates, in InternVL's order.
"""

from __future__ import annotations

import contextlib
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from mmreason.generation import GenerationError
from mmreason.synth import StageFailure
from mmreason.synth.pipelines.mmpr_pairs import (
    FormatError,
    MMPRCorrectnessStage,
    Sample,
    build_pairs,
    cot_question,
    extract_answer_from_mpo,
    fix_answer,
    is_correct,
    judge_samples,
)

INSTRUCTION_EN = (
    "Your task is to answer the question below. "
    "Give step by step reasoning before you answer, and when you're ready to answer, "
    'please use the format "Final answer: .."'
    "\n\n"
    "Question:"
    "\n\n"
    "{question}"
)  # InternVL's Python literal, copied from algorithms.md §4.4


def reply(answer: str, steps: str = "Step one.\nStep two.") -> str:
    return f"{steps}\nFinal answer: {answer}"


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("a\nb\nFinal answer: 42", ("a\nb", "42")),
        ("a\nb\nFinal Answer: 42 ", ("a\nb", "42")),  # fallback trigger
        ("a\nb\n答案: 42", ("a\nb", "42")),
        ("Final answer: 1\nb\nFinal answer: 2", ("Final answer: 1\nb", "2")),  # two triggers: the last one
        ("x\ny\nFinal answer: 3 and Final Answer: 4", ("x\ny", "3 and Final Answer: 4")),  # 'Final answer:' wins
    ],
)
def test_extract_answer_from_mpo_splits_at_the_last_trigger(response: str, expected: tuple[str, str]) -> None:
    assert extract_answer_from_mpo(response) == expected


@pytest.mark.parametrize(
    "response",
    [
        "a\nb\nFinal answer: 1 Final answer: 2 Final answer: 3",  # three triggers
        "one line\nFinal answer: 3",  # one newline only
        "a\nb\nno trigger at all",
        "\n\nFinal answer: 3",  # empty rationale
        "a\nb\nFinal answer: 3\nand more",  # multi-line answer
    ],
)
def test_extract_answer_from_mpo_asserts(response: str) -> None:
    with pytest.raises(FormatError):
        extract_answer_from_mpo(response)


@pytest.mark.parametrize(
    ("response", "pred", "gt", "expected"),
    [
        # gt contained in pred: the last occurrence of pred becomes gt
        ("r\ns\nFinal answer: x = 30,594.", "x = 30,594.", "30594", "r\ns\nFinal answer: 30594"),
        # '**' around the answer line are stripped, '**Final' on the last line becomes 'Final'
        ("r\ns\n**Final answer: 7 cm**", "7 cm**", "7", "r\ns\nFinal answer: 7"),
        ("r\ns\n**Final answer:** 9", "** 9", "8", "r\ns\nFinal answer:** 9"),
        # option letters: post_process reads (B) as B
        ("r\ns\nFinal answer: (B) 30°", "(B) 30°", "B", "r\ns\nFinal answer: B"),
        # no option letter readable: unchanged
        ("r\ns\nFinal answer: none", "none", "C", "r\ns\nFinal answer: none"),
        # not contained: unchanged
        ("r\ns\nFinal answer: 5", "5", "3", "r\ns\nFinal answer: 5"),
    ],
)
def test_fix_answer(response: str, pred: str, gt: str, expected: str) -> None:
    assert fix_answer(response, pred, gt) == expected


def test_fix_answer_failures_are_format_errors() -> None:
    with pytest.raises(FormatError):  # an empty prediction "contains" the ground truth ".": InternVL's rsplit fails
        fix_answer("a\nb\nFinal answer:", "", ".")
    with pytest.raises(FormatError):  # nothing left to split at a line break
        fix_answer("Final answer: 3", "3", "3")
    (sample,) = judge_samples(["a\nb\nFinal answer:"], ".")
    assert sample.answer_pred is None and sample.reason == "an empty prediction cannot be replaced"


@pytest.mark.parametrize(
    ("pred", "gt", "correct"),
    [
        ("Paris", "paris", True),
        ("(B) 30°", "B", True),
        ("B.", "B", True),
        ("C", "B", False),
        ("30.0", "30", True),
        ("\\frac{1}{2}", "0.5", True),
        ("x = 12 cm", "12", True),
        ("13", "3", False),
        ("", "3", False),
    ],
)
def test_is_correct_uses_strict_rules(pred: str, gt: str, correct: bool) -> None:
    assert is_correct(pred, gt) is correct


def test_judge_samples_checks_the_parsed_answer_and_stores_the_fixed_response() -> None:
    samples = judge_samples([reply("It is 3"), reply("5"), "no format"], "3")
    # answer_fix rewrote the text; the check reads the parsed "It is 3" (one number: 3, correct by strict rules)
    assert samples[0] == Sample(reply("3"), "It is 3", True)
    assert samples[1] == Sample(reply("5"), "5", False)
    assert samples[2].answer_pred is None and samples[2].reason == "fewer than 2 newlines (no rationale)"


def _samples(preds: list[str | None], gt: str = "3") -> list[Sample]:
    return [Sample(f"resp{i}", p, p is not None and p == gt) for i, p in enumerate(preds)]


def test_build_pairs_entailment_skip_and_format_pairs_apart() -> None:
    # resp0 "3" and resp1 "3" correct; resp2 "5" wrong; resp3 "13" wrong but contains "3" -> skipped; resp4 format
    pairs = build_pairs(_samples(["3", "3", "5", "13", None]))
    rng = random.Random(0)
    assert pairs.correctness == rng.sample([("resp0", "resp2"), ("resp1", "resp2")], 2)
    assert pairs.format == rng.sample([("resp0", "resp4"), ("resp1", "resp4")], 2)
    assert pairs.entailment_skips == 2 and not pairs.all_wrong


def test_build_pairs_format_entailment_reads_none() -> None:
    # InternVL stores a format negative's answer as 'None': a correct "one" is contained in it and skipped
    pairs = build_pairs([Sample("good", "one", True), Sample("bad", None)])
    assert pairs.format == [] and pairs.entailment_skips == 1


def test_build_pairs_caps_at_15_drawn_with_seed_0() -> None:
    preds = ["3"] * 4 + ["5", "6", "7", "8", "9"]
    pairs = build_pairs(_samples(preds))
    candidates = [(f"resp{p}", f"resp{n}") for p in range(4) for n in range(4, 9)]  # 20, pos-major as InternVL
    assert pairs.correctness == random.Random(0).sample(candidates, 15)
    assert len(build_pairs(_samples(preds), max_pairs=3).correctness) == 3


def test_build_pairs_deduplicates_identical_pairs() -> None:
    samples = [Sample("same", "3", True), Sample("same", "3", True), Sample("bad", "4")]
    assert build_pairs(samples).correctness == [("same", "bad")]


def test_all_wrong_and_all_correct() -> None:
    assert build_pairs(_samples(["4", "5", None])).all_wrong
    all_correct = build_pairs(_samples(["3", "3"]))
    assert not all_correct.all_wrong and all_correct.correctness == [] and all_correct.format == []


def test_cot_question_strips_short_answer_instructions_and_wraps_verbatim() -> None:
    question = "How many cats?\nAnswer the question using a single word or phrase."
    assert cot_question(question) == INSTRUCTION_EN.format(question="How many cats?")
    assert cot_question("Find x.") == INSTRUCTION_EN.format(question="Find x.")


class ListBackend:
    """Answers the k-th request about a question with the k-th of its scripted responses."""

    def __init__(self, script: dict[str, list[str | GenerationError]]):
        self.script, self.calls = script, []

    def settings(self) -> dict:
        return {"backend": "list"}

    def generate(self, conversations, sampling=None):
        self.calls.append((conversations, sampling))
        out, seen = [], {}
        for conversation in conversations:
            text = conversation[-1]["content"][-1]["text"]
            key = next(k for k in self.script if k in text)
            out.append(self.script[key][seen.get(key, 0)])
            seen[key] = seen.get(key, 0) + 1
        return out


def _row(rid: str, question: str, answer: str, image: bool = True) -> dict:
    parts = ([{"type": "image", "text": None}] if image else []) + [{"type": "text", "text": question}]
    return {
        "id": rid, "source": "geoqa", "category": "", "quality_group": "",
        "messages": [{"role": "user", "content": parts},
                     {"role": "assistant", "content": [{"type": "text", "text": answer}]}],
        "images": [Image.new("RGB", (6, 6), (9, 9, 9))] if image else [],
    }  # fmt: skip


def test_stage_builds_preference_rows_and_failures() -> None:
    backend = ListBackend({
        "Find x": [reply("3"), reply("5"), "garbage"],
        "Find y": [reply("1"), reply("2"), reply("4")],
        "Find z": [reply("7"), GenerationError("timeout"), reply("7")],
    })  # fmt: skip
    stage = MMPRCorrectnessStage(backend, num_samples=3)
    rows = [_row("q1", "Find x.", "3"), _row("q2", "Find y.", "9"), _row("q3", "Find z.", "7", image=False),
            {**_row("q4", "Two turns", "1"), "messages": []}]  # fmt: skip
    results = stage.process_batch(rows)
    prompt = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": INSTRUCTION_EN.format(
        question="Find x.")}]}]  # fmt: skip
    assert results[0] == [
        {"id": "q1-c0", "source": "geoqa_pairs_vqa_correctness_rules", "prompt": prompt,
         "chosen": [{"role": "assistant", "content": [{"type": "text", "text": reply("3")}]}],
         "rejected": [{"role": "assistant", "content": [{"type": "text", "text": reply("5")}]}],
         "images": rows[0]["images"], "answer_gt": "3"},
        {"id": "q1-f0", "source": "geoqa_pairs_vqa_format_rules", "prompt": prompt,
         "chosen": [{"role": "assistant", "content": [{"type": "text", "text": reply("3")}]}],
         "rejected": [{"role": "assistant", "content": [{"type": "text", "text": "garbage"}]}],
         "images": rows[0]["images"], "answer_gt": "3"},
    ]  # fmt: skip
    assert results[1] == StageFailure("all_wrong: no correct answer in 3 samples (re-sampled next run)", True)
    assert isinstance(results[2], StageFailure) and results[2].retryable and "timeout" in results[2].reason
    assert results[3] == StageFailure("not a single-turn row (want [system] user assistant)", retryable=False)
    sampling = backend.calls[0][1]
    assert (sampling.temperature, sampling.top_p) == (1.0, 1.0)
    assert getattr(sampling, "top_k", 50) == 50


_PIECES = ["Final answer:", "Final Answer:", "答案:", "**", "\n", " ", "3", "B", "(B)", "x = ", ",", ".",
           "\\frac{1}{2}", "é", "\u200b", "none", "30,594", "cm"]  # fmt: skip
_responses = st.lists(st.sampled_from(_PIECES), max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(_responses, st.sampled_from(["3", "B", "30594", "0.5", "none", "x", ".", ",", ""]))
def test_parsing_fixing_and_checking_never_raise_unexpectedly(response: str, gt: str) -> None:
    try:
        rationale, answer = extract_answer_from_mpo(response)
    except FormatError:
        pass
    else:
        assert rationale and "\n" not in answer and response.count("\n") >= 2
        with contextlib.suppress(FormatError):
            assert isinstance(fix_answer(response, answer, gt), str)
        assert isinstance(is_correct(answer, gt), bool)
    (sample,) = judge_samples([response], gt)
    assert (sample.answer_pred is None) == bool(sample.reason)
