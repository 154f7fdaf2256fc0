"""`count`: coloured circles and squares on a 4x4 grid.

easy: "How many red shapes are there?" (count one colour). hard: "How many red circles and blue squares are there
in total?" (count two colour-shape kinds, then add). Answers 0-8.
"""

from __future__ import annotations

import random
from typing import Any

from .problem import COLOURS, canvas, draw_shape, rationale

NAME = "count"
GRID = 4
CELL = 32  # IMAGE_SIZE / GRID
SHAPES = ("circle", "square")


def cell_centre(row: int, column: int) -> tuple[int, int]:
    """Pixel centre of grid cell (`row`, `column`), both 1-based."""
    return ((column - 1) * CELL + CELL // 2, (row - 1) * CELL + CELL // 2)


def make(rng: random.Random, level: str) -> dict[str, Any]:
    """One counting scene and question (the `Problem` fields but id/family/level)."""
    cells = rng.sample([(r, c) for r in range(1, GRID + 1) for c in range(1, GRID + 1)], rng.randint(3, 8))
    cells.sort()
    shapes = [(rng.choice(list(COLOURS)), rng.choice(SHAPES), cell) for cell in cells]
    image, draw = canvas()
    for colour, shape, (row, column) in shapes:
        draw_shape(draw, shape, cell_centre(row, column), 11, colour)
    listed = "; ".join(f"a {colour} {shape} at row {r}, column {c}" for colour, shape, (r, c) in shapes)
    description = f"The image is a 4 by 4 grid with {len(shapes)} shapes: {listed}."
    if level == "easy":
        colour = rng.choice(list(COLOURS))
        count = sum(s[0] == colour for s in shapes)
        question = f"How many {colour} shapes are there?"
        found = [f"{i} at row {r}, column {c}" for i, (r, c) in enumerate((s[2] for s in shapes if s[0] == colour), 1)]
        steps = [f"The {colour} shapes: {'; '.join(found)}, so there are {count}." if found
                 else f"There are no {colour} shapes, so there are 0."]  # fmt: skip
        answer = str(count)
    else:
        first, second = rng.sample([(c, s) for c in COLOURS for s in SHAPES], 2)
        a = sum((s[0], s[1]) == first for s in shapes)
        b = sum((s[0], s[1]) == second for s in shapes)
        question = f"How many {first[0]} {first[1]}s and {second[0]} {second[1]}s are there in total?"
        steps = [f"Count the {first[0]} {first[1]}s: {a}.", f"Count the {second[0]} {second[1]}s: {b}.",
                 f"Add them: {a} + {b} = {a + b}."]  # fmt: skip
        answer = str(a + b)
    return {"image": image, "question": question, "description": description, "answer": answer,
            "rationale": rationale(*steps, answer=answer), "choices": None}  # fmt: skip
