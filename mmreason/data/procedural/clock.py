"""`clock`: an analogue clock face (three face colours) with hour and minute hands.

easy: "What hour does the clock show?" (times on the hour or half past; answers 1-12). hard: "What time will it
be N hours later?" (read hour and minutes, then add; times on the quarter hour, answers "H:MM").
"""

from __future__ import annotations

import math
import random
from typing import Any

from .problem import INK, canvas, rationale

NAME = "clock"
CENTRE = (64, 64)
RADIUS = 58
HOUR_HAND = 30
MINUTE_HAND = 48
FACES: dict[str, tuple[int, int, int]] = {"yellow": (250, 235, 150), "grey": (215, 215, 215), "pink": (250, 200, 210)}


def hand_end(fraction: float, length: int) -> tuple[float, float]:
    """The tip of a hand `fraction` of a full turn clockwise from 12, `length` px from the centre."""
    angle = 2 * math.pi * fraction
    return (CENTRE[0] + length * math.sin(angle), CENTRE[1] - length * math.cos(angle))


def make(rng: random.Random, level: str) -> dict[str, Any]:
    """One clock and question (the `Problem` fields but id/family/level)."""
    hour = rng.randint(1, 12)
    minute = rng.choice((0, 30) if level == "easy" else (0, 15, 30, 45))
    face = rng.choice(list(FACES))
    image, draw = canvas()
    x, y = CENTRE
    draw.ellipse((x - RADIUS, y - RADIUS, x + RADIUS, y + RADIUS), fill=FACES[face], outline=INK, width=2)
    for mark in range(12):
        draw.line([hand_end(mark / 12, RADIUS - 7), hand_end(mark / 12, RADIUS - 1)], fill=INK, width=2)
    draw.line([CENTRE, hand_end((hour % 12 + minute / 60) / 12, HOUR_HAND)], fill=INK, width=5)
    draw.line([CENTRE, hand_end(minute / 60, MINUTE_HAND)], fill=INK, width=2)
    time = f"{hour}:{minute:02d}"
    description = f"The image is an analogue clock with a {face} face showing {time}."
    reading = f"The hour hand {'points at' if minute == 0 else 'is past'} {hour}"
    reading += f" and the minute hand at {minute // 5 or 12}, so the time is {time}."
    if level == "easy":
        question, answer, steps = "What hour does the clock show?", str(hour), [reading]
    else:
        later = rng.randint(1, 3)
        new_hour = (hour + later - 1) % 12 + 1
        question = f"What time will it be {later} hour{'s' if later > 1 else ''} later? Answer as H:MM."
        answer = f"{new_hour}:{minute:02d}"
        steps = [reading, f"Add {later} hour{'s' if later > 1 else ''}: {hour} + {later} = {new_hour}, so {answer}."]
    return {"image": image, "question": question, "description": description, "answer": answer,
            "rationale": rationale(*steps, answer=answer), "choices": None}  # fmt: skip
