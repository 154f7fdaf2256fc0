"""Math-PUMA text-rich / vision-rich pairs (`../shared/reference/algorithms.md` §3.1): a problem's text rendered into
its image at progressively more visual levels, MathVerse-style.

The question is split ([`split_question`]) into three consecutive parts of its text:

* **description**: the first half (rounded up) of the sentences before the question;
* **conditions**: the other sentences before the question;
* **question**: from the last sentence with a `?` (else the last sentence) to the end, with any trailing answer
  choices (`Choices:` / `A.` / `(B)` lines).

At each level one more part moves from the prompt into the image ([`level_texts`]):

| level | prompt | rendered into the image (above or below the diagram) |
|---|---|---|
| `text_dominant` | description + conditions + question (the original text) | nothing (the diagram alone) |
| `text_lite` | conditions + question | description |
| `vision_dominant` | question | description + conditions |
| `vision_only` | a fixed instruction ([`VISION_ONLY_INSTRUCTION`]) | description + conditions + question |

A row without an image gets a text-only `text_dominant` side and a blank canvas with the text elsewhere. Formulas
(`$…$`) are drawn by matplotlib mathtext ([`mmreason.synth.render`]). Each pair of levels (default: neighbours,
[`DEFAULT_PAIRS`]) gives a PUMA pair row: `text_rich` the more textual level (the teacher), `vision_rich` the more
visual one (the student), both ending with the row's answer. A pair whose two sides would be the same (a question
without a description, say) is skipped. The text's position (top/bottom) is drawn per row from
`Random(f"{seed}:{row id}")`, so a job is the same on every run.

This is our construction, not Math-PUMA's generator (its code is not public): MathVerse's levels remove text the
diagram already shows, which only a person (or a model) can tell; ours move fixed parts of the text instead.
"""

from __future__ import annotations

import io
import math
import random
import re
from dataclasses import dataclass
from typing import Any

from PIL import Image

from ..render import FORMULA, RENDERER_VERSION, RenderError, RenderStyle, compose
from ..stage import StageFailure
from .common import RowError, read_turn, text_part

LEVELS = ("text_dominant", "text_lite", "vision_dominant", "vision_only")
"""The levels, most textual first."""
DEFAULT_PAIRS = (("text_dominant", "text_lite"), ("text_lite", "vision_dominant"), ("vision_dominant", "vision_only"))
"""`(text_rich level, vision_rich level)` pairs made by default: neighbouring levels."""
VISION_ONLY_INSTRUCTION = "Answer the question shown in the image."
"""The prompt of the `vision_only` level (ours; version 1, recorded in the stage's settings)."""
INSTRUCTION_VERSION = 1
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")
_CHOICE = re.compile(r"^\s*(?:(?:choices|options)\s*:|\(?[A-H][.):](?:\s|$))", re.IGNORECASE)


@dataclass(frozen=True)
class QuestionParts:
    """A question's text in three consecutive parts (`description + conditions + question` is the question's
    text, stripped)."""

    description: str
    conditions: str
    question: str


def split_question(text: str) -> QuestionParts:
    """Split a question into description, conditions and question (see the module docstring); sentence ends inside
    `$…$` formulas are ignored."""
    text = text.strip()
    lines = text.split("\n")
    first_choice = len(lines)
    while first_choice > 0 and _CHOICE.match(lines[first_choice - 1]):
        first_choice -= 1
    stem = "\n".join(lines[:first_choice])
    masked = FORMULA.sub(lambda match: "x" * len(match.group(0)), stem)  # same length, no sentence ends inside
    starts = [0] + [match.end() for match in _SENTENCE_END.finditer(masked)]
    sentences = [(a, b) for a, b in zip(starts, [*starts[1:], len(stem)], strict=True)]
    asking = [i for i, (a, b) in enumerate(sentences) if "?" in masked[a:b]]
    question_at = asking[-1] if asking else len(sentences) - 1
    cut = sentences[question_at][0]
    split = sentences[math.ceil(question_at / 2)][0] if question_at else 0
    return QuestionParts(text[:split].strip(), text[split:cut].strip(), text[cut:].strip())


def _join(*parts: str) -> str:
    return " ".join(part for part in parts if part)


def level_texts(parts: QuestionParts, level: str) -> tuple[str, str]:
    """`(prompt text, text rendered into the image)` of `level`."""
    d, c, q = parts.description, parts.conditions, parts.question
    table = {
        "text_dominant": (_join(d, c, q), ""),
        "text_lite": (_join(c, q), d),
        "vision_dominant": (q, _join(d, c)),
        "vision_only": (VISION_ONLY_INSTRUCTION, _join(d, c, q)),
    }
    if level not in table:
        raise ValueError(f"unknown level {level!r}; choose from {', '.join(LEVELS)}")
    return table[level]


def _image(value: Any) -> Image.Image:
    """A row's image as PIL: a PIL image, a path, or a `{"bytes", "path"}` item."""
    if isinstance(value, Image.Image):
        return value
    if isinstance(value, dict):
        value = io.BytesIO(value["bytes"]) if value.get("bytes") else value.get("path")
    try:
        with Image.open(value) as opened:
            return opened.convert("RGB")
    except (OSError, TypeError, ValueError) as error:
        raise RowError(f"unreadable image: {error}") from error


@dataclass
class LevelRender:
    """One level of one problem: the prompt text and the image (`None` for a text-only side)."""

    level: str
    prompt: str
    image_text: str
    image: Image.Image | None
    fallbacks: list[str]


def render_levels(
    question: str, diagram: Image.Image | None, levels: tuple[str, ...] = LEVELS, style: RenderStyle | None = None,
    position: str = "top",
) -> dict[str, LevelRender]:  # fmt: skip
    """Every level of `levels` of a problem.

    Raises:
        RenderError: a level's text cannot be rendered (too long, does not fit).
    """
    parts = split_question(question)
    out = {}
    for level in levels:
        prompt, image_text = level_texts(parts, level)
        if not image_text and diagram is None:
            out[level] = LevelRender(level, prompt, "", None, [])
            continue
        rendered = compose(image_text, diagram, style, position)
        out[level] = LevelRender(level, prompt, image_text, rendered.image, rendered.fallbacks)
    return out


class PumaPairsStage:
    """Math-PUMA pairs as a job-runner [`Stage`]: canonical rows in (a question with at most one image, the
    answer in the assistant turn), PUMA pair rows out (`mmreason.data.preference.puma_features`).

    Args:
        style: how text and diagrams are drawn (canvas size, font size, limits).
        pairs: `(text_rich level, vision_rich level)` pairs to make, each level of [`LEVELS`].
        seed: decides each row's text position.
        positions: the text positions drawn from (`"top"`, `"bottom"`).
    """

    name = "puma_pairs"

    def __init__(
        self, style: RenderStyle | None = None, pairs: tuple[tuple[str, str], ...] = DEFAULT_PAIRS, seed: int = 0,
        positions: tuple[str, ...] = ("top", "bottom"),
    ):  # fmt: skip
        from ...data.preference import puma_features

        for text_level, vision_level in pairs:
            if text_level not in LEVELS or vision_level not in LEVELS:
                raise ValueError(f"unknown level in pair {(text_level, vision_level)}; choose from {LEVELS}")
            if LEVELS.index(text_level) >= LEVELS.index(vision_level):
                raise ValueError(f"pair {(text_level, vision_level)}: the text-rich level must come first")
        if not positions or any(p not in ("top", "bottom") for p in positions):
            raise ValueError(f"positions must be 'top'/'bottom', got {positions}")
        self.style, self.pairs, self.seed, self.positions = style or RenderStyle(), tuple(pairs), seed, positions
        self.features = puma_features()

    def settings(self) -> dict[str, Any]:
        """Renderer and matplotlib versions, style, pairs, seed, positions and the vision-only instruction."""
        import matplotlib

        return {
            "renderer": RENDERER_VERSION, "matplotlib": matplotlib.__version__, "style": self.style.settings(),
            "pairs": [list(pair) for pair in self.pairs], "seed": self.seed, "positions": list(self.positions),
            "vision_only_instruction": f"puma_vision_only@{INSTRUCTION_VERSION}",
        }  # fmt: skip

    def position(self, row_id: str) -> str:
        """The text position of a row (seeded by `seed` and the row's id)."""
        return random.Random(f"{self.seed}:{row_id}").choice(self.positions)

    def process_batch(self, rows: list[dict[str, Any]]) -> list[list[dict[str, Any]] | StageFailure]:
        """Each row's pairs, or a permanent failure with its reason (unusable row, text that cannot be rendered)."""
        return [self._pairs(row) for row in rows]

    def _pairs(self, row: dict[str, Any]) -> list[dict[str, Any]] | StageFailure:
        try:
            turn = read_turn(row)
            if not turn.answer:
                raise RowError("no answer (empty assistant turn)")
            if len(turn.images) > 1:
                raise RowError(f"{len(turn.images)} images (PUMA rendering takes at most one)")
            diagram = _image(turn.images[0]) if turn.images else None
            levels = tuple(dict.fromkeys(level for pair in self.pairs for level in pair))
            renders = render_levels(turn.question, diagram, levels, self.style, self.position(row["id"]))
        except (RowError, RenderError) as error:
            return StageFailure(str(error), retryable=False)
        out = []
        for text_level, vision_level in self.pairs:
            text_side, vision_side = renders[text_level], renders[vision_level]
            if (text_side.prompt, text_side.image_text) == (vision_side.prompt, vision_side.image_text):
                continue
            out.append(self._row(row, turn.answer, text_side, vision_side))
        return out

    def _row(self, row: dict[str, Any], answer: str, text_side: LevelRender, vision_side: LevelRender) -> dict:
        def side(render: LevelRender) -> list[dict[str, Any]]:
            content = [text_part(render.prompt)] + ([{"type": "image"}] if render.image is not None else [])
            return [{"role": "user", "content": content}, {"role": "assistant", "content": [text_part(answer)]}]

        return {
            "id": f"{row['id']}-puma-{text_side.level}-{vision_side.level}",
            "source": f"{row.get('source') or 'puma'}_puma_render", "answer": answer,
            "text_rich": side(text_side), "text_rich_images": [text_side.image] if text_side.image is not None else [],
            "vision_rich": side(vision_side), "vision_rich_images": [vision_side.image],
        }  # fmt: skip


def puma_pairs(rows: list[dict[str, Any]], **options: Any) -> list[dict[str, Any]]:
    """Math-PUMA pairs over rows in memory (`options` as [`PumaPairsStage`]); rows that fail give none (run it with
    `mmreason.synth.run_job(PumaPairsStage(...), ...)` to record why)."""
    stage = PumaPairsStage(**options)
    return [pair for result in stage.process_batch(list(rows)) if isinstance(result, list) for pair in result]


__all__ = [
    "DEFAULT_PAIRS", "INSTRUCTION_VERSION", "LEVELS", "VISION_ONLY_INSTRUCTION", "LevelRender", "PumaPairsStage",
    "QuestionParts", "level_texts", "puma_pairs", "render_levels", "split_question",
]  # fmt: skip
