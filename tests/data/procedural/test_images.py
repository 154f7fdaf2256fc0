"""The images show what the descriptions state, measured from the pixels (positions, colours, shapes, bar heights
against the chart's own grid lines, clock hands' angles, line ends against the ruler's ticks)."""

import math
from collections import defaultdict

import numpy as np

from mmreason.data import procedural

from .solver import parse_bars, parse_clock, parse_count, parse_lines, parse_numbers


def _colour(pixel) -> str:
    r, g, b = (int(v) for v in pixel)
    if min(r, g, b) > 235:
        return "white"
    if max(r, g, b) < 80:
        return "ink"
    if r > 150 and g < 100 and b < 100:
        return "red"
    if g > 120 and r < 100 and b < 100:
        return "green"
    if b > 150 and r < 100 and g < 120:
        return "blue"
    return "other"


def _pixels(problem):
    return np.asarray(problem.image)  # (y, x, rgb)


def _classes(pixels):
    """`_colour` of every pixel, as an array of names."""
    r, g, b = (pixels[..., k].astype(int) for k in range(3))
    masks = [
        np.minimum(np.minimum(r, g), b) > 235,
        np.maximum(np.maximum(r, g), b) < 80,
        (r > 150) & (g < 100) & (b < 100),
        (g > 120) & (r < 100) & (b < 100),
        (b > 150) & (r < 100) & (g < 120),
    ]
    return np.select(masks, ["white", "ink", "red", "green", "blue"], "other")


def test_counting_shapes_sit_in_the_stated_cells_with_the_stated_colour_and_shape():
    for p in procedural.generate(40, 0, "easy", ["count"]) + procedural.generate(40, 0, "hard", ["count"]):
        pixels, cell = _pixels(p), procedural.IMAGE_SIZE // 4  # "a 4 by 4 grid"
        shapes = {(r, c): (colour, shape) for colour, shape, r, c in parse_count(p.description)}
        assert len(shapes) == int(p.description.split(" with ")[1].split()[0])
        for r in range(1, 5):
            for c in range(1, 5):
                x, y = (c - 1) * cell + cell // 2, (r - 1) * cell + cell // 2
                if (r, c) not in shapes:
                    assert _colour(pixels[y, x]) == "white", (p.id, r, c)
                    continue
                colour, shape = shapes[r, c]
                assert _colour(pixels[y, x]) == colour, (p.id, r, c)
                corner = _colour(pixels[y - 9, x - 9])  # inside a square's corner, outside a circle
                assert corner == (colour if shape == "square" else "white"), (p.id, r, c, shape)


def test_bar_heights_measured_against_the_grid_lines():
    for p in procedural.generate(30, 1, "easy", ["bars"]) + procedural.generate(30, 1, "hard", ["bars"]):
        pixels = _pixels(p)
        column = pixels[:, 9]  # left of the first bar: grid lines and the axis only
        grid = [y for y in range(len(column)) if 150 < column[y][0] < 230 and len(set(column[y])) == 1]
        axis = max(y for y in range(len(column)) if _colour(column[y]) == "ink")
        unit = (axis - min(grid)) / len(grid)  # grid lines every unit above the axis
        assert np.allclose(np.diff(sorted([*grid, axis])), unit)
        blue = _classes(pixels) == "blue"
        row = list(blue[axis - 2])
        starts = [x for x in range(1, len(row)) if row[x] and not row[x - 1]]
        ends = [x for x in range(len(row) - 1) if row[x] and not row[x + 1]]
        assert len(starts) == len(ends) == 4, p.id
        heights = [blue[:, (a + b) // 2].sum() / unit for a, b in zip(starts, ends)]
        assert heights == [float(h) for h in parse_bars(p.description).values()], (p.id, heights)
        assert list(parse_bars(p.description)) == ["A", "B", "C", "D"]  # left to right


def _at(centre, radius, fraction):
    angle = 2 * math.pi * fraction
    return round(centre[0] + radius * math.sin(angle)), round(centre[1] - radius * math.cos(angle))


def test_clock_hands_point_at_the_stated_time_on_the_stated_face():
    faces = {"yellow": lambda r, g, b: r > 230 and g > 220 and b < 180,
             "grey": lambda r, g, b: max(r, g, b) - min(r, g, b) < 8 and 180 < r < 240,
             "pink": lambda r, g, b: r > 230 and g < 215 and b > 190}  # fmt: skip
    for p in procedural.generate(30, 2, "easy", ["clock"]) + procedural.generate(30, 2, "hard", ["clock"]):
        pixels = _pixels(p)
        ys, xs = np.nonzero((pixels < 235).any(axis=2))
        centre, radius = ((xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2), (xs.max() - xs.min()) / 2
        face, hour, minute = parse_clock(p.description)
        hour_turn, minute_turn = (hour % 12 + minute / 60) / 12, minute / 60

        def dark(r, turn, pixels=pixels, centre=centre):
            x, y = _at(centre, r, turn)
            return _colour(pixels[y, x]) == "ink"

        assert all(dark(radius * f, hour_turn) for f in (0.2, 0.3, 0.4)), p.id
        assert all(dark(radius * f, minute_turn) for f in (0.6, 0.75)), p.id
        if abs((hour_turn - minute_turn + 0.5) % 1 - 0.5) > 0.05:  # hands apart: the hour hand is short
            assert not dark(radius * 0.75, hour_turn), p.id
        free = (hour_turn + minute_turn) / 2 + (0.5 if abs(hour_turn - minute_turn) < 0.5 else 0)
        x, y = _at(centre, radius * 0.5, free)
        assert faces[face](*(int(v) for v in pixels[y, x])), (p.id, face, pixels[y, x])


def test_numbers_are_drawn_next_to_the_stated_shapes_and_one_number_looks_one_way():
    looks = defaultdict(set)
    for p in procedural.generate(60, 3, "easy", ["numbers"]) + procedural.generate(60, 3, "hard", ["numbers"]):
        pixels = _pixels(p)
        for colour, _, number, r, c in parse_numbers(p.description):
            x, y = (c - 1) * 64 + 16, (r - 1) * 32 + 16  # shape at the left of its 64x32 cell, number to its right
            assert _colour(pixels[y, x]) == colour, p.id
            crop = pixels[y - 12 : y + 12, x + 12 : x + 44]
            ink = _classes(crop) == "ink"
            assert ink.sum() > 10, p.id
            looks[number].add(ink.tobytes())
    assert all(len(v) == 1 for v in looks.values()), {k: len(v) for k, v in looks.items()}
    assert len(set().union(*looks.values())) == len(looks) == 5  # five digits, five distinct glyphs


def test_lines_end_at_the_stated_ruler_marks():
    for p in procedural.generate(30, 4, "easy", ["length"]) + procedural.generate(30, 4, "hard", ["length"]):
        pixels = _pixels(p)
        classes = _classes(pixels)
        ink = classes == "ink"
        ruler = int(ink.sum(axis=1).argmax())  # the ruler's line
        ticks = [x for x in range(ink.shape[1]) if ink[ruler - 3, x]]
        lines = parse_lines(p.description)
        assert set(lines) == {"red", "blue"}
        for colour, (start, end) in lines.items():
            rows = np.nonzero((classes == colour).any(axis=1))[0]
            xs = list(np.nonzero(classes[rows[len(rows) // 2]] == colour)[0])
            assert xs == list(range(ticks[start], ticks[end])), (p.id, colour)
