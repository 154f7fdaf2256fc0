"""`numbers`: coloured shapes with a digit drawn next to each, on a 4-row x 2-column grid.

easy: two shapes, "What is the sum of the two numbers?" (one addition; answers 2-10). hard: a red, a green and a
blue shape, "Add the numbers next to the red and blue shapes, then subtract the number next to the green shape."
(read three numbers, add, subtract; answers -3-9).
"""

from __future__ import annotations

import random
from typing import Any

from .problem import COLOURS, INK, canvas, draw_shape, font, rationale

NAME = "numbers"
ROWS, COLUMNS = 4, 2
CELL_W, CELL_H = 64, 32
SHAPES = ("circle", "square")


def shape_centre(row: int, column: int) -> tuple[int, int]:
    """Pixel centre of the shape in cell (`row`, `column`), both 1-based (the digit is drawn to its right)."""
    return ((column - 1) * CELL_W + 16, (row - 1) * CELL_H + CELL_H // 2)


def make(rng: random.Random, level: str) -> dict[str, Any]:
    """One scene of numbered shapes and question (the `Problem` fields but id/family/level)."""
    colours = rng.sample(["red", "blue"], 2) if level == "easy" else rng.sample(list(COLOURS), 3)
    cells = sorted(rng.sample([(r, c) for r in range(1, ROWS + 1) for c in range(1, COLUMNS + 1)], len(colours)))
    items = [(colour, rng.choice(SHAPES), rng.randint(1, 5), cell) for colour, cell in zip(colours, cells)]
    image, draw = canvas()
    for colour, shape, number, (row, column) in items:
        x, y = shape_centre(row, column)
        draw_shape(draw, shape, (x, y), 10, colour)
        draw.text((x + 16, y), str(number), fill=INK, font=font(18), anchor="lm")
    listed = "; ".join(f"a {c} {s} with the number {n} next to it at row {r}, column {k}"
                       for c, s, n, (r, k) in items)  # fmt: skip
    description = f"The image shows {len(items)} shapes: {listed}."
    value = {colour: number for colour, _, number, _ in items}
    if level == "easy":
        a, b = (number for _, _, number, _ in items)
        question = "What is the sum of the two numbers next to the shapes?"
        steps = [f"The numbers are {a} and {b}; {a} + {b} = {a + b}."]
        answer = str(a + b)
    else:
        red, blue, green = value["red"], value["blue"], value["green"]
        question = ("Add the numbers next to the red and blue shapes, then subtract the number next to the green "
                    "shape. What is the result?")  # fmt: skip
        steps = [f"Red: {red}, blue: {blue}, green: {green}.", f"{red} + {blue} = {red + blue}.",
                 f"{red + blue} - {green} = {red + blue - green}."]  # fmt: skip
        answer = str(red + blue - green)
    return {"image": image, "question": question, "description": description, "answer": answer,
            "rationale": rationale(*steps, answer=answer), "choices": None}  # fmt: skip
