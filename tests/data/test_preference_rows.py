"""Preference and PUMA pair records → rows: the released forms, InternVL's `<image>` rule and every drop reason,
each checked against a hand-written expectation (issue #12, item 2)."""

import pytest

from mmreason.data.llava import RecordError
from mmreason.data.preference import preference_record_to_row, puma_record_to_row
from mmreason.data.reasons import DROP_REASONS


def _reason(convert, record):
    with pytest.raises(RecordError) as caught:
        convert(record, "rec-0")
    assert caught.value.reason in DROP_REASONS
    return caught.value.reason


def _pair(**fields):
    return {"question": "Q?", "chosen": "yes", "rejected": "no", **fields}


def test_single_image_question_without_placeholder_gets_one_in_front():
    row = preference_record_to_row(_pair(image="a.jpg"), "rec-0")
    assert row["prompt"] == [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Q?"}]}]
    assert row["images"] == ["a.jpg"] and row["id"] == "rec-0" and row["answer_gt"] == ""


def test_placeholders_stay_where_they_are_and_text_only_has_none():
    row = preference_record_to_row(_pair(image="a.jpg", question="Look.<image>\nQ?"), "rec-0")
    assert [part["type"] for part in row["prompt"][0]["content"]] == ["text", "image", "text"]
    for empty in ({}, {"image": ""}, {"image": []}, {"image": None}):
        row = preference_record_to_row(_pair(**empty), "rec-0")
        assert row["images"] == [] and row["prompt"][0]["content"] == [{"type": "text", "text": "Q?"}]


def test_a_list_of_images_is_not_given_placeholders():
    # InternVL prepends only for a single (string) image; a list needs its own placeholders
    row = preference_record_to_row(_pair(image=["a.jpg", "b.jpg"], question="<image>\n<image>\nQ?"), "rec-0")
    assert [part["type"] for part in row["prompt"][0]["content"]] == ["image", "image", "text"]
    row = preference_record_to_row(_pair(image=["a.jpg"]), "rec-0")
    assert row["prompt"][0]["content"] == [{"type": "text", "text": "Q?"}]  # the reader drops it: 0 placeholders


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (_pair(chosen="  \n"), "empty_completion"),
        (_pair(rejected=""), "empty_completion"),
        (_pair(chosen="same", rejected="same"), "identical_completions"),
        (_pair(chosen="see <image> here"), "image_count_mismatch"),
        (_pair(question=None), "malformed"),
        ({"chosen": "a", "rejected": "b"}, "malformed"),
        (_pair(rejected=3), "malformed"),
        (_pair(image=7), "malformed"),
        (_pair(video="clip.mp4"), "malformed"),
        (_pair(question="<video>\nQ"), "malformed"),
        (_pair(answer_gt=[1]), "malformed"),
        (_pair(question="bad \ud83d"), "invalid_unicode"),
        (["not", "an", "object"], "malformed"),
        ({"prompt": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}],
          "chosen": "a", "rejected": "b"}, "bad_role_order"),
        ({"prompt": [{"role": "robot", "content": "Q"}], "chosen": "a", "rejected": "b"}, "bad_role"),
        ({"prompt": [{"role": "user", "content": "Q"}], "chosen": [{"role": "user", "content": "a"}],
          "rejected": "b"}, "bad_role_order"),
        ({"prompt": [{"role": "user", "content": "Q"}], "rejected": "b",
          "chosen": [{"role": "assistant", "content": "a"}, {"role": "assistant", "content": "c"}]}, "bad_role_order"),
        ({"prompt": [{"role": "user", "content": "Q"}], "rejected": "b",
          "chosen": [{"role": "assistant", "content": [{"type": "image"}, {"type": "text", "text": "a"}]}]},
         "image_count_mismatch"),
        ({"prompt": [{"role": "user", "content": ""}], "chosen": "a", "rejected": "b"}, "empty_turn"),
    ],
)  # fmt: skip
def test_preference_drop_reasons(record, reason):
    assert _reason(preference_record_to_row, record) == reason


def _puma(**fields):
    record = {"image_url": "t.png", "instruction": "Text-rich Q", "output": "42",
              "image_url_2": "v.png", "instruction_2": "Q", "output_2": "42"}  # fmt: skip
    return {**record, **fields}


def test_puma_sides():
    row = puma_record_to_row(_puma(id=7, source="VarsityTutors"), "rec-0")
    assert row["id"] == "7" and row["source"] == "VarsityTutors" and row["answer"] == "42"
    assert row["text_rich"] == [
        {"role": "user", "content": [{"type": "text", "text": "Text-rich Q"}, {"type": "image"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "42"}]},
    ]
    assert row["vision_rich"][0]["content"] == [{"type": "text", "text": "Q"}, {"type": "image"}]
    assert (row["text_rich_images"], row["vision_rich_images"]) == (["t.png"], ["v.png"])
    text_only = puma_record_to_row(_puma(image_url=""), "rec-0")
    assert text_only["text_rich_images"] == [] and text_only["text_rich"][0]["content"] == [
        {"type": "text", "text": "Text-rich Q"}
    ]
    vision_only = puma_record_to_row(_puma(instruction_2=""), "rec-0")  # all the text moved into the image
    assert vision_only["vision_rich"][0]["content"] == [{"type": "image"}]


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (_puma(output_2="41"), "answer_mismatch"),
        (_puma(output="", output_2=""), "empty_answer"),
        (_puma(image_url_2=""), "malformed"),
        ({k: v for k, v in _puma().items() if k != "instruction_2"}, "malformed"),
        (_puma(output=None), "malformed"),
        (_puma(image_url=["t.png"]), "malformed"),
        (_puma(instruction="<image>\nQ"), "image_count_mismatch"),
        (_puma(image_url="", instruction=""), "empty_turn"),
        (_puma(instruction_2="\udc00"), "invalid_unicode"),
        ("a string", "malformed"),
    ],
)
def test_puma_drop_reasons(record, reason):
    assert _reason(puma_record_to_row, record) == reason
