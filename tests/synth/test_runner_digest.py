"""The input check's row digest: the same for the same content (whatever the key order or container copy), different
for any changed leaf, type or boundary — so a rerun over other input rows is always caught."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from mmreason.synth.state import RowDigest

leaves = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8), st.binary(max_size=8)
)
values = st.recursive(
    leaves,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4),
    max_leaves=12,
)
rows = st.dictionaries(st.text(max_size=6), values, min_size=1, max_size=5)


def canonical(value: object) -> object:
    """`value` with dict order removed and every leaf's type kept (`1`, `True`, `1.0`, `-0.0` all differ)."""
    if isinstance(value, dict):
        return ("dict", tuple(sorted((key, canonical(item)) for key, item in value.items())))
    if isinstance(value, list):
        return ("list", tuple(canonical(item) for item in value))
    return (type(value).__name__, repr(value))


def digest(*items: object) -> str:
    hasher = RowDigest()
    for item in items:
        hasher.update(item)
    return hasher.hexdigest()


@settings(max_examples=150, deadline=None)
@given(row=rows)
def test_same_content_same_digest(row: dict) -> None:
    reordered = dict(reversed(list(copy.deepcopy(row).items())))
    assert digest(row) == digest(reordered)


@settings(max_examples=150, deadline=None)
@given(row=rows, key=st.text(max_size=6), value=values)
def test_any_changed_value_changes_the_digest(row: dict, key: str, value: object) -> None:
    changed = {**row, key: value}
    same = key in row and canonical(row[key]) == canonical(value)
    assert (digest(row) == digest(changed)) == same


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("1", 1), (1, 1.5), (True, 1), (None, "None"), (b"ab", "ab"), (["ab"], ["a", "b"]), ({"a": []}, {"a": {}}),
        ([[1], 2], [[1, 2]]), ({"ab": "c"}, {"a": "bc"}),
    ],
)  # fmt: skip
def test_types_and_boundaries_are_part_of_the_digest(first: object, second: object) -> None:
    assert digest(first) != digest(second)
    assert digest([first, second]) != digest([second, first])


def test_images_count_by_pixels() -> None:
    image = Image.new("RGB", (3, 2), (10, 20, 30))
    assert digest({"image": image}) == digest({"image": image.copy()})
    edited = image.copy()
    edited.putpixel((2, 1), (10, 20, 31))
    assert digest({"image": image}) != digest({"image": edited})
    assert digest({"image": image}) != digest({"image": image.convert("RGBA")})
    with pytest.raises(TypeError, match="cannot fingerprint an input value of type object"):
        digest({"x": object()})
