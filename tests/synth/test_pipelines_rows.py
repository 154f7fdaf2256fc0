"""Input rows the pipelines cannot use become permanent failures with a reason, never a crash of the batch: hand
cases for each reason and a bounded fuzz of every stage over hostile rows."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from mmreason.synth import StageFailure
from mmreason.synth.pipelines.common import RowError, read_turn
from mmreason.synth.pipelines.dropout_ntp import DropoutNTPStage
from mmreason.synth.pipelines.mammoth_rewrite import MammothRewriteStage
from mmreason.synth.pipelines.mmpr_pairs import MMPRCorrectnessStage

IMAGE = Image.new("RGB", (3, 3))


def _user(content, images=(), answer="3"):
    return {"id": "r", "source": "s", "images": list(images),
            "messages": [{"role": "user", "content": content}, {"role": "assistant", "content": answer}]}  # fmt: skip


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ({"id": "r"}, "no messages list"),
        ({"id": "r", "messages": "hi"}, "no messages list"),
        ({"id": "r", "messages": [{"role": "user", "content": "q"}]}, "not a single-turn row"),
        (_user(None), "the user turn's content is neither a string nor a list of parts"),
        (_user([{"type": "video"}]), "only text and image parts are supported in the user turn"),
        (_user([{"type": "text", "text": 5}]), "a text part of the user turn is not a string"),
        (_user([{"type": "image"}, {"type": "text", "text": "q"}]), "1 image parts for 0 images"),
        (_user([{"type": "image"}], [IMAGE]), "the user turn has no text"),
        (_user("q", answer=[{"type": "image"}, "x"]), "the assistant turn's content is neither"),
    ],
)
def test_unusable_rows_are_row_errors(row: dict, reason: str) -> None:
    with pytest.raises(RowError, match=reason):
        read_turn(row)


def test_a_system_turn_and_string_content_are_read() -> None:
    user = [{"type": "text", "text": " Q? "}, {"type": "image", "text": None}]
    row = {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": user},
                        {"role": "assistant", "content": " 3 "}], "images": [IMAGE]}  # fmt: skip
    turn = read_turn(row)
    assert (turn.question, turn.answer) == ("Q?", "3")
    assert turn.user == [{"type": "text", "text": " Q? "}, {"type": "image", "image": IMAGE}]


class Echo:
    def settings(self):
        return {"backend": "echo"}

    def generate(self, conversations, sampling=None):
        return ["Category: B\nQuestion: q\nAnswer: a\nFinal answer: 1\nScore: 3\nVerdict: Yes\nReason: r"
                for _ in conversations]  # fmt: skip


_scalar = st.one_of(st.none(), st.integers(), st.text(max_size=8), st.sampled_from(["user", "assistant", "system"]))
_part = st.one_of(st.fixed_dictionaries({"type": st.sampled_from(["text", "image", "video", 3]), "text": _scalar}),
                  _scalar)  # fmt: skip
_content = st.one_of(_scalar, st.lists(_part, max_size=3))
_message = st.one_of(st.fixed_dictionaries({"role": _scalar, "content": _content}), _scalar)
_messages = st.one_of(_scalar, st.lists(_message, max_size=3))
_images = st.lists(st.just(IMAGE), max_size=2)
_row = st.fixed_dictionaries({"id": st.just("r"), "source": st.just("s"), "messages": _messages, "images": _images})


@settings(max_examples=150, deadline=None)
@given(st.lists(_row, min_size=1, max_size=4))
def test_every_stage_answers_each_row_whatever_it_holds(rows: list[dict]) -> None:
    for stage in (MMPRCorrectnessStage(Echo(), num_samples=2), DropoutNTPStage(Echo()), MammothRewriteStage(Echo())):
        results = stage.process_batch(rows)
        assert len(results) == len(rows)
        for result in results:
            assert isinstance(result, list | StageFailure)
            if isinstance(result, StageFailure):
                assert result.reason
