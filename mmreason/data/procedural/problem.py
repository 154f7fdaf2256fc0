"""The `Problem` record, the shared prompt wording and the drawing helpers every family uses.

A problem is one rendered scene plus a question about it. The *vision-rich* view shows the image and asks the
question; the *text-rich* twin also states the scene in words (`description`), so the same problem can be solved
from text alone. Answers are short strings from a few classes per family, so a tiny model can learn them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

#: side of every rendered image, in pixels
IMAGE_SIZE = 128
LEVELS = ("easy", "hard")
VIEWS = ("vision", "text")
#: the instruction closing every prompt; the scorer reads the last "Final answer:" line
ANSWER_INSTRUCTION = 'Think step by step, then end with "Final answer: <answer>".'
FINAL_ANSWER = "Final answer:"

#: colour name -> RGB, the palette every family draws with (names appear in descriptions and questions)
COLOURS: dict[str, tuple[int, int, int]] = {"red": (220, 30, 30), "green": (30, 160, 40), "blue": (30, 60, 220)}
BACKGROUND = (255, 255, 255)
INK = (0, 0, 0)


@dataclass
class Problem:
    """One procedural problem.

    Args:
        id: unique within a generated stream, e.g. "count-easy-7-000003".
        family: the task family (`FAMILIES` in `mmreason.data.procedural`).
        level: "easy" (one step) or "hard" (several steps).
        image: the rendered scene (PIL RGB, `IMAGE_SIZE` px square).
        question: the question, answerable only from the image.
        description: the scene in words (the text-rich twin's extra text).
        answer: the gold answer.
        rationale: step-by-step solution ending in "Final answer: <answer>".
        choices: the options of a multiple-choice question (the answer is one of them), else `None`.
    """

    id: str
    family: str
    level: str
    image: Image.Image
    question: str
    description: str
    answer: str
    rationale: str
    choices: list[str] | None = None


def user_prompt(question: str, choices: list[str] | None = None, description: str | None = None) -> str:
    """The user turn's text: the scene description (text-rich view only), the question, the choices, and the
    answer-format instruction. SFT rows and the `procedural` benchmark use exactly this text."""
    lines = [description] if description else []
    lines.append(question)
    if choices:
        lines.append("Choices: " + ", ".join(choices) + ".")
    lines.append(ANSWER_INSTRUCTION)
    return "\n".join(lines)


def rationale(*steps: str, answer: str) -> str:
    """Steps, one per line, then the final-answer line."""
    return "\n".join([*steps, f"{FINAL_ANSWER} {answer}"])


def canvas() -> tuple[Image.Image, ImageDraw.ImageDraw]:
    """A blank white `IMAGE_SIZE` square and its drawing context."""
    image = Image.new("RGB", (IMAGE_SIZE, IMAGE_SIZE), BACKGROUND)
    return image, ImageDraw.Draw(image)


@lru_cache(maxsize=4)
def font(size: int = 14) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's bundled font at `size` px (no font file needed)."""
    return ImageFont.load_default(size=size)


def draw_shape(draw: ImageDraw.ImageDraw, shape: str, centre: tuple[int, int], radius: int, colour: str) -> None:
    """A filled `circle` or `square` of `colour` centred at `centre`."""
    x, y = centre
    box = (x - radius, y - radius, x + radius, y + radius)
    if shape == "circle":
        draw.ellipse(box, fill=COLOURS[colour])
    elif shape == "square":
        draw.rectangle(box, fill=COLOURS[colour])
    else:
        raise ValueError(f"unknown shape {shape!r}")


def distinct(rng: random.Random, low: int, high: int, k: int) -> list[int]:
    """`k` distinct integers from `low..high` in random order."""
    return rng.sample(range(low, high + 1), k)


__all__ = [
    "ANSWER_INSTRUCTION",
    "COLOURS",
    "FINAL_ANSWER",
    "IMAGE_SIZE",
    "LEVELS",
    "VIEWS",
    "Problem",
    "canvas",
    "draw_shape",
    "font",
    "rationale",
    "user_prompt",
]
