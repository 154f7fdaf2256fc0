"""`length`: a red and a blue horizontal line over a ruler with marks 0-7 (16 px per unit).

easy: "Which line is longer?" (choices red, blue). hard: "How many units longer is the longer line than the
shorter one?" (read both lines' ends on the ruler, compute both lengths, subtract; answers 1-5).
"""

from __future__ import annotations

import random
from typing import Any

from .problem import COLOURS, INK, canvas, rationale

NAME = "length"
UNIT = 16
ORIGIN = 8  # x of ruler mark 0
LINE_Y = {"red": 36, "blue": 76}
LINE_WIDTH = 6
RULER_Y = 110
MARKS = 7


def mark_x(mark: int) -> int:
    """x of ruler mark `mark`."""
    return ORIGIN + mark * UNIT


def make(rng: random.Random, level: str) -> dict[str, Any]:
    """Two lines and a question (the `Problem` fields but id/family/level)."""
    lengths = dict(zip(("red", "blue"), rng.sample(range(1, MARKS), 2)))
    spans = {}
    for colour, length in lengths.items():
        start = rng.randint(0, MARKS - length)
        spans[colour] = (start, start + length)
    image, draw = canvas()
    draw.line([(mark_x(0), RULER_Y), (mark_x(MARKS), RULER_Y)], fill=INK, width=1)
    for mark in range(MARKS + 1):
        draw.line([(mark_x(mark), RULER_Y - 4), (mark_x(mark), RULER_Y + 4)], fill=INK, width=1)
    for colour, (start, end) in spans.items():
        top = LINE_Y[colour] - LINE_WIDTH // 2
        draw.rectangle((mark_x(start), top, mark_x(end) - 1, top + LINE_WIDTH - 1), fill=COLOURS[colour])
    listed = " and ".join(f"a {colour} line from mark {a} to mark {b}" for colour, (a, b) in spans.items())
    description = f"The image shows a ruler with marks 0 to {MARKS} and {listed}."
    longer = max(lengths, key=lengths.__getitem__)
    shorter = "blue" if longer == "red" else "red"
    measured = [f"The {c} line runs from {a} to {b}, so it is {b - a} unit{'s' if b - a > 1 else ''} long."
                for c, (a, b) in spans.items()]  # fmt: skip
    if level == "easy":
        question, choices, answer = "Which line is longer, the red one or the blue one?", ["red", "blue"], longer
        (red, blue) = spans.values()
        steps = [f"The red line runs from {red[0]} to {red[1]}, {lengths['red']} long, and the blue line from "
                 f"{blue[0]} to {blue[1]}, {lengths['blue']} long, so the {longer} line is longer."]  # fmt: skip
    else:
        question, choices = "How many units longer is the longer line than the shorter one?", None
        difference = lengths[longer] - lengths[shorter]
        steps = [*measured, f"{lengths[longer]} - {lengths[shorter]} = {difference}."]
        answer = str(difference)
    return {"image": image, "question": question, "description": description, "answer": answer,
            "rationale": rationale(*steps, answer=answer), "choices": choices}  # fmt: skip
