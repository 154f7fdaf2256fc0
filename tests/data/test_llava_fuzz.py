"""Property tests for the LLaVA converters (issue #10, item 9): any JSON value, odd Unicode (lone surrogates, cut
emoji) and wrong types included, gives either a `RecordError` with a documented reason or a row that pyarrow can
store; valid rows survive canonical -> LLaVA -> canonical unchanged."""

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmreason.data.llava import RecordError, canonical_to_llava, llava_to_canonical
from mmreason.data.reasons import DROP_REASONS

FUZZ = settings(max_examples=300, deadline=None)
TEXT = st.text(st.characters(exclude_categories=()), max_size=8) | st.sampled_from(["\ud83d", "😀", "é", ""])
PROMPT = st.lists(st.sampled_from(["<image>", "<video>", "\n", "<image>\n", "Q", " <imag"]) | TEXT, max_size=5).map(
    "".join
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda c: st.lists(c, max_size=3) | st.dictionaries(TEXT, c, max_size=3),
    max_leaves=5,
)
ROLE = st.sampled_from(["human", "gpt", "system", "user", "assistant", "robot", ""]) | JSON
TURN = (
    st.fixed_dictionaries({}, optional={"from": ROLE, "role": ROLE, "value": PROMPT | JSON, "content": PROMPT | JSON})
    | JSON
)
MEDIA = (
    st.sampled_from(["a/1.png", "b.jpg", "clips/v.mp4"])
    | TEXT
    | st.lists(st.sampled_from(["x/1.png", "2.png"]) | JSON, max_size=3)
    | JSON
)
RECORD = (
    st.fixed_dictionaries(
        {},
        optional={
            "id": st.integers() | TEXT | JSON,
            "conversations": st.lists(TURN, max_size=4) | JSON,
            "messages": st.lists(TURN, max_size=3),
            "image": MEDIA,
            "video": MEDIA,
            "source": TEXT | JSON,
            "data_source": TEXT,
            "category": TEXT | JSON,
            "quality_group": TEXT | st.integers() | JSON,
        },
    )
    | JSON
)


def _valid(row) -> None:
    """Independent of the converter: the row fits the canonical schema and pyarrow stores it."""
    for key in ("id", "source", "category", "quality_group"):
        assert isinstance(row[key], str)
    assert all(isinstance(path, str) for path in row["images"] + row["videos"])
    for message in row["messages"]:
        assert message["role"] in ("system", "user", "assistant")
        for part in message["content"]:
            assert part["type"] in ("text", "image", "video")
            assert part["type"] != "text" or (isinstance(part["text"], str) and part["text"])
    pa.Table.from_pylist([row])  # raises on a lone surrogate (what used to kill `data prepare`)


@pytest.mark.timeout(60)
@FUZZ
@given(record=RECORD)
def test_any_record_is_a_record_error_or_a_valid_row(record):
    try:
        row = llava_to_canonical(record, "fallback")
    except RecordError as error:
        assert error.reason in DROP_REASONS
        return
    _valid(row)
    again = llava_to_canonical(canonical_to_llava(row, keep_metadata=True), "fallback")
    assert again == row
