"""Render problem text (with `$…$` formulas) into images, offline: matplotlib's mathtext on the Agg canvas, no LaTeX.

[`render_text`] draws a text block of a given width: words and `$…$` formulas are laid out left to right and
wrapped greedily (a formula is never split; a word wider than the line is cut), `\\n` starts a new line. Formulas go
through matplotlib mathtext (`\\frac`, `\\sqrt`, `^`, Greek, ...); a formula mathtext cannot parse (unknown command,
unbalanced braces, nesting too deep, longer than `max_math_chars`, wider than the line even at `min_font_size`: a
wider formula makes the whole block smaller first) is drawn as its raw source instead and named in
`Rendered.fallbacks`. A lone `$` is a literal dollar sign. Characters the font cannot draw are drawn as matplotlib's
missing-glyph box; lone surrogates and control characters become U+FFFD (also a fallback).

[`compose`] puts a text block and a diagram on one canvas of `RenderStyle.width x height`: the text above or below,
the diagram scaled (aspect kept, LANCZOS) and centred in the rest; everything else is background. The result says
where each part is (`text_box`, `diagram_box`), which the tests check pixel by pixel. When the text is too tall the
font shrinks in steps of 2 down to `min_font_size`; text that still does not fit, or more than `max_chars`
characters, raises [`RenderError`] (a reason, never a hang). Rendering is deterministic: the same input gives the
same pixels.
"""

from __future__ import annotations

import math
import re
import unicodedata
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

RENDERER_VERSION = 1
"""Bumped whenever the same input would render to other pixels (a job records it in its settings)."""
FORMULA = re.compile(r"(?<!\\)\$(?P<body>(?=\S)[^$\n]*?[^\s\\])\$(?!\d)")
"""A `$…$` formula (pandoc's rule): `$` not escaped, no space just inside either `$`, no digit right after the
closing one — so "costs $5 and $6" has no formula."""
_MAX_BRACE_DEPTH = 24


class RenderError(ValueError):
    """Text that cannot be rendered within the style's limits (the message says why)."""


@dataclass(frozen=True)
class RenderStyle:
    """How text and diagrams are drawn.

    Args:
        width / height: the canvas in pixels (what [`compose`] returns).
        font_size: the text's size in pixels (72 dpi: points = pixels).
        min_font_size: the smallest size tried when the text does not fit.
        margin: blank border in pixels around the text block and the diagram.
        line_spacing: the gap between lines, as a fraction of the font size.
        max_text_fraction: the largest share of the canvas height the text may take when there is a diagram.
        font_family: the font (matplotlib ships DejaVu Sans, so renders are the same everywhere).
        background / color: RGB colours of the canvas and the text.
        max_chars: longer texts are refused ([`RenderError`]).
        max_math_chars: longer formulas are drawn as raw source (a fallback).
    """

    width: int = 768
    height: int = 768
    font_size: int = 20
    min_font_size: int = 10
    margin: int = 16
    line_spacing: float = 0.35
    max_text_fraction: float = 0.6
    font_family: str = "DejaVu Sans"
    background: tuple[int, int, int] = (255, 255, 255)
    color: tuple[int, int, int] = (0, 0, 0)
    max_chars: int = 4000
    max_math_chars: int = 400

    def __post_init__(self) -> None:
        if min(self.width, self.height) < 2 * self.margin + 32 or self.margin < 0:
            raise ValueError(f"a {self.width}x{self.height} canvas is too small for margins of {self.margin} px")
        if not 4 <= self.min_font_size <= self.font_size:
            raise ValueError(f"want 4 <= min_font_size <= font_size, got {self.min_font_size} and {self.font_size}")
        if not 0 < self.max_text_fraction <= 1:
            raise ValueError(f"max_text_fraction must be in (0, 1], got {self.max_text_fraction}")

    def settings(self) -> dict[str, Any]:
        """The style as a JSON-able dict (for a stage's settings)."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass
class Rendered:
    """A rendered image and where its parts are.

    Attributes:
        image: the RGB image.
        text_box: `(left, top, right, bottom)` of the text block (`None` without text).
        diagram_box: `(left, top, right, bottom)` of the scaled diagram (`None` without a diagram).
        font_size: the font size used (smaller than the style's when the text had to shrink).
        fallbacks: why parts were drawn otherwise (a formula mathtext could not parse, replaced characters).
    """

    image: Image.Image
    text_box: tuple[int, int, int, int] | None = None
    diagram_box: tuple[int, int, int, int] | None = None
    font_size: int = 0
    fallbacks: list[str] = field(default_factory=list)


class _TooWide(Exception):
    """A formula wider than the line at this font size (the block is laid out again smaller)."""


@dataclass(frozen=True)
class _Token:
    text: str  # what matplotlib draws (plain text with `$` escaped, or `$formula$`)
    width: float
    ascent: float
    descent: float
    newline: bool = False


def clean_text(text: str, fallbacks: list[str] | None = None) -> str:
    """`text` with lone surrogates and control characters (other than `\\n`) replaced by U+FFFD, tabs by spaces."""
    out = []
    for char in text.replace("\r\n", "\n").replace("\t", " "):
        if char != "\n" and unicodedata.category(char) in ("Cs", "Cc"):
            if fallbacks is not None and "replaced unprintable characters" not in fallbacks:
                fallbacks.append("replaced unprintable characters")
            char = "\ufffd"
        out.append(char)
    return "".join(out)


def _pieces(text: str) -> list[tuple[str, str, bool]]:
    """`(source, drawn, has_math)` per unit in order: whitespace-separated words, where a `$…$` formula counts as
    one word with any text glued to it (`"($x$),"`), and `"\\n"` between lines. `drawn` is what matplotlib gets:
    `$` outside formulas escaped."""
    pieces: list[tuple[str, str, bool]] = []
    for line_number, line in enumerate(text.split("\n")):
        if line_number:
            pieces.append(("\n", "", False))
        spans = [match.span() for match in FORMULA.finditer(line)]
        masked = list(line)
        for start, end in spans:
            masked[start:end] = ["x"] * (end - start)
        for word in re.finditer(r"\S+", "".join(masked)):
            inside = [(a, b) for a, b in spans if word.start() <= a < word.end()]  # a formula is inside one word
            drawn, position = [], word.start()
            for a, b in inside:
                drawn += [_escape(line[position:a]), line[a:b]]
                position = b
            drawn.append(_escape(line[position : word.end()]))
            pieces.append((line[word.start() : word.end()], "".join(drawn), bool(inside)))
    return pieces


def _escape(plain: str) -> str:
    """Plain text for matplotlib: `$` escaped so it is never read as math."""
    return plain.replace("\\$", "$").replace("$", "\\$")


def _math_problem(piece: str, max_math_chars: int) -> str | None:
    """Why a formula is not handed to mathtext (too long, braces unbalanced or nested too deep), else `None`."""
    body_length = sum(len(m.group("body")) for m in FORMULA.finditer(piece))
    if body_length > max_math_chars:
        return f"formula longer than {max_math_chars} characters"
    depth = 0
    for char in piece:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0 or depth > _MAX_BRACE_DEPTH:
            return "unbalanced or too deeply nested braces"
    return None if depth == 0 else "unbalanced braces"


class _Measurer:
    """Measures and draws tokens with one Agg renderer at 72 dpi (pixels = points)."""

    def __init__(self, style: RenderStyle, font_size: int):
        from matplotlib.backends.backend_agg import RendererAgg
        from matplotlib.font_manager import FontProperties

        self.style, self.font_size = style, font_size
        self.font = FontProperties(family=style.font_family, size=font_size)
        self.renderer = RendererAgg(8, 8, 72)

    def measure(self, text: str, ismath: bool) -> tuple[float, float, float]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Glyph ... missing from font": measured as the missing-glyph box
            width, height, descent = self.renderer.get_text_width_height_descent(text, self.font, ismath=ismath)
        return float(width), float(height - descent), float(descent)

    def tokens(self, text: str, fallbacks: list[str]) -> list[_Token]:
        out: list[_Token] = []
        for source, drawn, has_math in _pieces(text):
            if source == "\n":
                out.append(_Token("", 0.0, 0.0, 0.0, newline=True))
                continue
            if has_math:
                problem = _math_problem(source, self.style.max_math_chars)
                if problem is None:
                    try:
                        token = _Token(drawn, *self.measure(drawn, True))
                    except (ValueError, RecursionError, KeyError, IndexError, RuntimeError) as error:
                        problem = f"mathtext cannot parse it ({type(error).__name__})"
                    else:
                        if token.width <= self.style.width - 2 * self.style.margin:
                            out.append(token)
                            continue
                        if self.font_size > self.style.min_font_size:
                            raise _TooWide
                        problem = f"wider than the line at font size {self.font_size}"
                fallbacks.append(f"formula drawn as source: {source[:60]!r}: {problem}")
            out += self._plain(source.replace("\\$", "$"))
        return out

    def _plain(self, word: str) -> list[_Token]:
        """A plain word (as displayed: `$` unescaped), cut into pieces no wider than a line."""
        limit = self.style.width - 2 * self.style.margin
        out, start = [], 0
        while start < len(word):
            end = len(word)
            while end > start + 1 and self.measure(word[start:end], False)[0] > limit:
                end = start + max(1, (end - start) * 3 // 4)
            out.append(_Token(word[start:end].replace("$", "\\$"), *self.measure(word[start:end], False)))
            start = end
        return out

    def lines(self, tokens: list[_Token]) -> list[list[tuple[float, _Token]]]:
        """Greedy wrapping: `(x, token)` per line."""
        limit = self.style.width - 2 * self.style.margin
        space = self.measure("a a", False)[0] - 2 * self.measure("a", False)[0]
        lines: list[list[tuple[float, _Token]]] = [[]]
        x = 0.0
        for token in tokens:
            if token.newline:
                lines.append([])
                x = 0.0
                continue
            start = x + space if lines[-1] else 0.0
            if lines[-1] and start + token.width > limit:
                lines.append([])
                start = 0.0
            lines[-1].append((start, token))
            x = start + token.width
        return lines


def _layout(text: str, style: RenderStyle, font_size: int, fallbacks: list[str]) -> tuple[_Measurer, list, int]:
    """The measurer, the lines with each line's baseline, and the block's height."""
    measurer = _Measurer(style, font_size)
    lines = measurer.lines(measurer.tokens(text, fallbacks))
    placed, y, gap = [], float(style.margin), style.line_spacing * font_size
    for line in lines:
        ascent = max([t.ascent for _, t in line] + [0.8 * font_size])
        descent = max([t.descent for _, t in line] + [0.2 * font_size])
        placed.append((y + ascent, line))
        y += ascent + descent + gap
    return measurer, placed, math.ceil(y - gap + style.margin)


def render_text(text: str, style: RenderStyle | None = None, font_size: int | None = None) -> Rendered:
    """The text block of `text` alone: `style.width` wide, as tall as its lines (margins included).

    Raises:
        RenderError: `text` is longer than `style.max_chars`.
    """
    style = style or RenderStyle()
    return _text_block(text, style, font_size or style.font_size, None)


def _text_block(text: str, style: RenderStyle, font_size: int, room: int | None) -> Rendered:
    """The text block at the largest size from `font_size` down (steps of 2, to `style.min_font_size`) that is at
    most `room` pixels tall (any height when `room` is `None`)."""
    fallbacks: list[str] = []
    text = clean_text(text, fallbacks).strip()
    if len(text) > style.max_chars:
        raise RenderError(f"text of {len(text)} characters is longer than max_chars={style.max_chars}")
    while True:
        notes = list(fallbacks)
        try:
            measurer, placed, height = _layout(text, style, font_size, notes)
        except _TooWide:
            font_size = max(style.min_font_size, font_size - 2)
            continue
        if room is None or height <= room:
            return Rendered(_draw(measurer, placed, style, height), (0, 0, style.width, height), None, font_size,
                            notes)  # fmt: skip
        if font_size <= style.min_font_size:
            raise RenderError(f"text does not fit: {height} px tall at font size {font_size}, room for {room} px")
        font_size = max(style.min_font_size, font_size - 2)


def _draw(measurer: _Measurer, placed: list, style: RenderStyle, height: int) -> Image.Image:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(style.width / 72, height / 72), dpi=72, facecolor=[c / 255 for c in style.background])
    canvas = FigureCanvasAgg(figure)
    color = [c / 255 for c in style.color]
    for baseline, line in placed:
        for x, token in line:
            figure.text((style.margin + x) / style.width, 1 - baseline / height, token.text, color=color,
                        fontproperties=measurer.font, va="baseline", ha="left")  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Glyph ... missing from font": drawn as the missing-glyph box
        canvas.draw()
    image = Image.fromarray(np.asarray(canvas.buffer_rgba())).convert("RGB")
    if image.size != (style.width, height):  # inches x 72 rounded off by a pixel
        raise RenderError(f"the canvas came out {image.size}, not {(style.width, height)}")
    return image


def compose(
    text: str, diagram: Image.Image | None, style: RenderStyle | None = None, position: str = "top"
) -> Rendered:
    """`text` and `diagram` on one `style.width x style.height` canvas: the text block at the `position`
    (`"top"`/`"bottom"`), the diagram scaled into the rest; without text the diagram takes the whole canvas.

    Raises:
        RenderError: the text does not fit even at `style.min_font_size`, or is longer than `style.max_chars`.
        ValueError: an unknown `position`, or neither text nor diagram.
    """
    style = style or RenderStyle()
    if position not in ("top", "bottom"):
        raise ValueError(f"position must be 'top' or 'bottom', not {position!r}")
    if not text.strip() and diagram is None:
        raise ValueError("nothing to render: no text and no diagram")
    canvas = Image.new("RGB", (style.width, style.height), style.background)
    block, text_box, fallbacks, size = None, None, [], style.font_size
    if text.strip():
        room = int(style.height * style.max_text_fraction) if diagram is not None else style.height
        block = _text_block(text, style, style.font_size, room)
        fallbacks, size = block.fallbacks, block.font_size
        top = 0 if position == "top" else style.height - block.image.height
        canvas.paste(block.image, (0, top))
        text_box = (0, top, style.width, top + block.image.height)
    diagram_box = None
    if diagram is not None:
        used = block.image.height if block is not None else 0
        top = used if position == "top" else 0
        area = (style.width - 2 * style.margin, style.height - used - 2 * style.margin)
        scaled = fit_diagram(diagram, area)
        left = (style.width - scaled.width) // 2
        top += style.margin + (area[1] - scaled.height) // 2
        canvas.paste(scaled, (left, top))
        diagram_box = (left, top, left + scaled.width, top + scaled.height)
    return Rendered(canvas, text_box, diagram_box, size, fallbacks)


def fit_diagram(diagram: Image.Image, area: tuple[int, int]) -> Image.Image:
    """`diagram` as RGB scaled to fit `area` (width, height) with its aspect ratio kept (LANCZOS)."""
    image = diagram.convert("RGB")
    scale = min(area[0] / image.width, area[1] / image.height)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image if size == image.size else image.resize(size, Image.Resampling.LANCZOS)


__all__ = ["FORMULA", "RENDERER_VERSION", "RenderError", "RenderStyle", "Rendered", "clean_text", "compose",
           "fit_diagram", "render_text"]  # fmt: skip
