"""Splitting a streamed answer into reasoning and final answer, against hand-written cases and properties."""

from hypothesis import given, settings
from hypothesis import strategies as st

from mmreason.serve.reasoning import split_answer


def test_hand_written_cases():
    split = split_answer("Bar B is 5.\nFinal answer: B")
    assert (split.reasoning, split.answer, split.done) == ("Bar B is 5.", "B", True)
    split = split_answer("Step 1: read.\nStep 2: add")  # still streaming: all reasoning
    assert (split.reasoning, split.answer, split.done) == ("Step 1: read.\nStep 2: add", None, False)
    split = split_answer("Final answer: 3? No.\nFinal Answer: 4")  # the last marker counts
    assert (split.reasoning, split.answer) == ("Final answer: 3? No.", "4")
    assert split_answer("Final answer:").answer == ""  # the marker just arrived


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300), st.text(max_size=50).filter(lambda t: "Final" not in t and "FINAL" not in t))
def test_reasoning_then_marker_then_answer_round_trips(reasoning, answer):
    split = split_answer(f"{reasoning}\nFinal answer: {answer}")
    assert split.answer == answer.strip()
    assert split.reasoning in reasoning.strip() or reasoning.strip().startswith(split.reasoning)
