"""`bars`: a bar chart of four bars A-D with integer heights 1-5 on a unit grid.

easy: "Which bar is the tallest?" (choices A-D). hard: "How much taller is the tallest bar than the shortest
bar?" (find both, then subtract; answers 1-4).
"""

from __future__ import annotations

import random
from typing import Any

from .problem import COLOURS, INK, canvas, font, rationale

NAME = "bars"
LABELS = ("A", "B", "C", "D")
UNIT = 20  # pixels per height unit
BASELINE = 112  # y of the bars' bottom edge
BAR_WIDTH = 20
BAR_COLOUR = "blue"
GRID_COLOUR = (200, 200, 200)


def bar_left(index: int) -> int:
    """x of the left edge of bar `index` (0-based)."""
    return 12 + index * 28


def make(rng: random.Random, level: str) -> dict[str, Any]:
    """One bar chart and question (the `Problem` fields but id/family/level)."""
    heights = [rng.randint(1, 5) for _ in LABELS]
    while heights.count(max(heights)) > 1 or heights.count(min(heights)) > 1:
        heights = [rng.randint(1, 5) for _ in LABELS]
    image, draw = canvas()
    for unit in range(1, 6):
        draw.line([(8, BASELINE - unit * UNIT), (124, BASELINE - unit * UNIT)], fill=GRID_COLOUR)
    draw.line([(8, BASELINE), (124, BASELINE)], fill=INK)
    for index, (label, height) in enumerate(zip(LABELS, heights)):
        left = bar_left(index)
        draw.rectangle((left, BASELINE - height * UNIT, left + BAR_WIDTH - 1, BASELINE - 1), fill=COLOURS[BAR_COLOUR])
        draw.text((left + 5, BASELINE + 1), label, fill=INK, font=font(12))
    listed = ", ".join(f"bar {label} has height {h}" for label, h in zip(LABELS, heights))
    description = f"The image is a bar chart with grid lines every 1 unit: {listed}."
    tallest, shortest = LABELS[heights.index(max(heights))], LABELS[heights.index(min(heights))]
    if level == "easy":
        question, choices = "Which bar is the tallest?", list(LABELS)
        read = ", ".join(f"{label} {h}" for label, h in zip(LABELS, heights))
        steps = [f"The heights are {read}, so the tallest bar is {tallest}, with height {max(heights)}."]
        answer = tallest
    else:
        question, choices = "How much taller is the tallest bar than the shortest bar?", None
        top, low = max(heights), min(heights)
        steps = [f"The tallest bar is {tallest}, with height {top}.",
                 f"The shortest bar is {shortest}, with height {low}.",
                 f"Subtract: {top} - {low} = {top - low}."]  # fmt: skip
        answer = str(top - low)
    return {"image": image, "question": question, "description": description, "answer": answer,
            "rationale": rationale(*steps, answer=answer), "choices": choices}  # fmt: skip
