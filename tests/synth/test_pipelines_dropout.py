"""DropoutNTP: exact prefixes (InternVL's `int(len(chosen.split(' ')) * 0.5)` tokens joined by spaces), the request
continued without the image, rejected = prefix + continuation with no separator."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from mmreason.generation import GenerationError
from mmreason.synth import StageFailure
from mmreason.synth.pipelines.dropout_ntp import DropoutNTPStage, dropout_prefix


@pytest.mark.parametrize(
    ("response", "prefix"),
    [
        ("one two three four five", "one two"),  # int(5 * 0.5) = 2
        ("one two three four", "one two"),  # int(4 * 0.5) = 2
        ("single", ""),  # int(1 * 0.5) = 0
        ("a  b c", "a "),  # split(' ') gives ['a', '', 'b', 'c']: 2 tokens 'a' and '' joined by ' '
        ("x\ny z w", "x\ny"),  # only spaces separate: 'x\ny' is one token of 3
        ("The answer is 42 because 6 times 7 is 42.", "The answer is 42 because"),  # 10 tokens -> 5
        ("", ""),
    ],
)
def test_dropout_prefix_is_exact(response: str, prefix: str) -> None:
    assert dropout_prefix(response) == prefix


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="ab\n\t", min_size=0, max_size=4), min_size=1, max_size=30))
def test_dropout_prefix_keeps_half_the_space_tokens(tokens: list[str]) -> None:
    response = " ".join(tokens)
    prefix = dropout_prefix(response)
    assert response.startswith(prefix)
    keep = len(tokens) // 2  # int(n * 0.5)
    assert prefix == response[: len(" ".join(tokens[:keep]))]
    assert keep == 0 or response[len(prefix) :].startswith(" ")


class Continuer:
    def __init__(self, replies):
        self.replies, self.conversations, self.sampling = list(replies), [], None

    def settings(self):
        return {"backend": "continuer"}

    def generate(self, conversations, sampling=None):
        self.conversations += conversations
        self.sampling = sampling
        return [self.replies.pop(0) for _ in conversations]


def _row(rid: str, answer: str) -> dict:
    user = [{"type": "image", "text": None}, {"type": "text", "text": "Describe."}]
    return {
        "id": rid, "source": "RLAIF-V", "category": "", "quality_group": "", "images": [Image.new("RGB", (5, 5))],
        "messages": [{"role": "user", "content": user},
                     {"role": "assistant", "content": [{"type": "text", "text": answer}]}],
    }  # fmt: skip


def test_stage_continues_without_the_image_and_concatenates() -> None:
    backend = Continuer([" blue sky.", GenerationError("500 overloaded"), "one two three four"])
    stage = DropoutNTPStage(backend)
    rows = [_row("r1", "A red car under a grey sky."), _row("r2", "x y"), _row("r3", "one two three four")]
    results = stage.process_batch(rows)
    # the prefix of 'A red car under a grey sky.' (7 tokens) is 'A red car' (3 tokens); no image part is sent
    assert backend.conversations[0] == [
        {"role": "user", "content": [{"type": "text", "text": "Describe."}]},
        {"role": "assistant", "content": [{"type": "text", "text": "A red car"}]},
    ]
    assert results[0] == [{
        "id": "r1-ntp", "source": "RLAIF-V_prefix_pair_sr0.5_wo_image",
        "prompt": [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Describe."}]}],
        "chosen": [{"role": "assistant", "content": [{"type": "text", "text": "A red car under a grey sky."}]}],
        "rejected": [{"role": "assistant", "content": [{"type": "text", "text": "A red car blue sky."}]}],
        "images": rows[0]["images"], "answer_gt": "",
    }]  # fmt: skip
    assert isinstance(results[1], StageFailure) and results[1].retryable and "500 overloaded" in results[1].reason
    # 'one two' + 'one two three four' != chosen; a continuation equal to the rest would be refused
    assert results[2][0]["rejected"][0]["content"][0]["text"] == "one twoone two three four"
    assert (backend.sampling.temperature, backend.sampling.max_new_tokens) == (1.0, 1024)
    assert getattr(backend.sampling, "continue_final_message", True) is True


def test_a_continuation_that_rebuilds_the_chosen_response_is_a_failure() -> None:
    stage = DropoutNTPStage(Continuer([" three four"]))
    assert stage.process_batch([_row("r1", "one two three four")]) == [
        StageFailure("identical: the continuation reproduced the chosen response")
    ]


def test_with_image_keeps_the_image_parts() -> None:
    backend = Continuer([" z"])
    result = DropoutNTPStage(backend, with_image=True).process_batch([_row("r1", "a b c d")])
    assert backend.conversations[0][0]["content"][0]["type"] == "image"
    assert result[0][0]["source"] == "RLAIF-V_prefix_pair_sr0.5_with_image"
