"""An independent solver of the procedural set: it reads only the scene description and the question (plain
text), parses them with its own patterns and computes the answer by its own rules. It shares no code with
`mmreason.data.procedural`, so a generator bug that makes an answer disagree with its own scene is caught."""

from __future__ import annotations

import re


def parse_count(description: str) -> list[tuple[str, str, int, int]]:
    """`(colour, shape, row, column)` of every shape of a counting scene."""
    return [(c, s, int(r), int(k)) for c, s, r, k in
            re.findall(r"an? (\w+) (circle|square) at row (\d), column (\d)", description)]  # fmt: skip


def parse_bars(description: str) -> dict[str, int]:
    return {label: int(h) for label, h in re.findall(r"bar ([A-D]) has height (\d+)", description)}


def parse_clock(description: str) -> tuple[str, int, int]:
    face, hour, minute = re.search(r"with an? (\w+) face showing (\d+):(\d\d)", description).groups()
    return face, int(hour), int(minute)


def parse_numbers(description: str) -> list[tuple[str, str, int, int, int]]:
    """`(colour, shape, number, row, column)` of every numbered shape."""
    found = re.findall(r"an? (\w+) (circle|square) with the number (\d+) next to it at row (\d), column (\d)",
                       description)  # fmt: skip
    return [(c, s, int(n), int(r), int(k)) for c, s, n, r, k in found]


def parse_lines(description: str) -> dict[str, tuple[int, int]]:
    found = re.findall(r"an? (\w+) line from mark (\d+) to mark (\d+)", description)
    return {c: (int(a), int(b)) for c, a, b in found}


def solve(description: str, question: str) -> str:
    """The answer to `question` about the scene `description`."""
    if "grid with" in description:
        shapes = parse_count(description)
        if m := re.fullmatch(r"How many (\w+) shapes are there\?", question):
            return str(sum(1 for c, *_ in shapes if c == m.group(1)))
        m = re.fullmatch(r"How many (\w+) (\w+)s and (\w+) (\w+)s are there in total\?", question)
        kinds = [(m.group(1), m.group(2)), (m.group(3), m.group(4))]
        return str(sum(1 for c, s, *_ in shapes for kind in kinds if (c, s) == kind))
    if "bar chart" in description:
        bars = parse_bars(description)
        if question == "Which bar is the tallest?":
            return max(bars, key=lambda label: bars[label])
        assert question == "How much taller is the tallest bar than the shortest bar?", question
        return str(max(bars.values()) - min(bars.values()))
    if "clock" in description:
        _, hour, minute = parse_clock(description)
        if question == "What hour does the clock show?":
            return str(hour)
        later = int(re.fullmatch(r"What time will it be (\d) hours? later\? Answer as H:MM\.", question).group(1))
        total = (hour * 60 + minute + 60 * later) % (12 * 60)
        return f"{total // 60 or 12}:{total % 60:02d}"
    if "number" in description:
        items = parse_numbers(description)
        if question == "What is the sum of the two numbers next to the shapes?":
            assert len(items) == 2
            return str(sum(n for _, _, n, _, _ in items))
        value = {c: n for c, _, n, _, _ in items}
        assert question.startswith("Add the numbers next to the red and blue shapes, then subtract"), question
        return str(value["red"] + value["blue"] - value["green"])
    if "ruler" in description:
        lengths = {c: b - a for c, (a, b) in parse_lines(description).items()}
        if question == "Which line is longer, the red one or the blue one?":
            return "red" if lengths["red"] > lengths["blue"] else "blue"
        assert question == "How many units longer is the longer line than the shorter one?", question
        return str(abs(lengths["red"] - lengths["blue"]))
    raise ValueError(f"unknown scene: {description!r}")


def solve_prompt(text: str) -> str | None:
    """Solve a text-rich user prompt (description line, question line, ...); `None` without a description."""
    lines = text.split("\n")
    if not lines[0].startswith(("The image is", "The image shows")):
        return None
    return solve(lines[0], lines[1])
