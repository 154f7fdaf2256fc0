"""Math-PUMA pairs: each level has its text where the level says (prompt vs. image region, checked by pixels, OCR
free), `$…$` formulas go through mathtext (compared with stock `matplotlib.mathtext.math_to_image`), pairs' answers
agree, renders are deterministic per seed, and the stage runs as a job into PUMA pair rows."""

from __future__ import annotations

import io
import random

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mmreason.synth import StageFailure, run_job
from mmreason.synth.pipelines.puma_pairs import (
    VISION_ONLY_INSTRUCTION,
    PumaPairsStage,
    QuestionParts,
    puma_pairs,
    split_question,
)
from mmreason.synth.render import RenderStyle, compose, render_text

WHITE = (255, 255, 255)
DIAGRAM_COLOR = (173, 216, 230)
DESCRIPTION = "As shown in the figure, triangle $ABC$ is inscribed in circle O. Its side $AB$ is a chord."
CONDITIONS = "The angle $\\angle C = 30^\\circ$ and $AB = 3$."
QUESTION = "What is the radius of circle O?\nChoices:\nA. 3\nB. 6"
PROBLEM = f"{DESCRIPTION} {CONDITIONS} {QUESTION}"
ANSWER = "By the inscribed angle theorem, $r = AB / (2 \\sin 30^\\circ) = 3$. Final answer: A"


def diagram() -> Image.Image:
    image = Image.new("RGB", (300, 200), DIAGRAM_COLOR)
    ImageDraw.Draw(image).ellipse([60, 20, 240, 180], outline=(0, 0, 0), width=3)
    return image


def row(text: str = PROBLEM, images: list | None = None, answer: str = ANSWER, row_id: str = "geo-1") -> dict:
    images = [diagram()] if images is None else images
    content = [{"type": "image"} for _ in images] + [{"type": "text", "text": text}]
    return {
        "id": row_id,
        "source": "geo",
        "messages": [{"role": "user", "content": content}, {"role": "assistant", "content": answer}],
        "images": images,
    }


def ink(image: Image.Image) -> np.ndarray:
    """Dark pixels (text strokes, the diagram's outline)."""
    return np.asarray(image.convert("L")) < 128


def diagram_mask(image: Image.Image) -> np.ndarray:
    """Pixels of the diagram (its fill colour or its black outline inside the fill's bounding box)."""
    pixels = np.asarray(image).astype(int)
    fill = np.abs(pixels - np.array(DIAGRAM_COLOR)).sum(-1) < 30
    rows, cols = np.where(fill)
    mask = np.zeros(fill.shape, bool)
    if len(rows):
        mask[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1] = True
    return mask


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        (PROBLEM, QuestionParts(DESCRIPTION, CONDITIONS, QUESTION)),  # 3 sentences before the question: 2 + 1
        ("Find $x$.", QuestionParts("", "", "Find $x$.")),  # no "?": the last sentence is the question
        ("Let $x = 2.5$ and $y = f(x)?$ hold. Find $y$.",  # a "?" inside a formula does not count
         QuestionParts("Let $x = 2.5$ and $y = f(x)?$ hold.", "", "Find $y$.")),
        ("A is 1. B is 2. C is 3. D is 4. What is A+D? Give a number.",
         QuestionParts("A is 1. B is 2.", "C is 3. D is 4.", "What is A+D? Give a number.")),
        ("x = 2. Which is larger?\n(A) 1\n(B) 3", QuestionParts("x = 2.", "", "Which is larger?\n(A) 1\n(B) 3")),
    ],
)  # fmt: skip
def test_split_question_hand_cases(text: str, parts: QuestionParts) -> None:
    assert split_question(text) == parts


def test_each_level_has_its_text_in_the_prompt_and_the_image() -> None:
    """Hand-expected prompts per level; the image's text region is the moved text rendered alone, the diagram is
    untouched, the rest is blank, and the image's text ink is the sum of the moved parts' ink."""
    style = RenderStyle(width=640, height=640)
    stage = PumaPairsStage(style=style, positions=("top",))
    pairs = stage.process_batch([row()])[0]
    assert [p["id"] for p in pairs] == ["geo-1-puma-text_dominant-text_lite", "geo-1-puma-text_lite-vision_dominant",
                                        "geo-1-puma-vision_dominant-vision_only"]  # fmt: skip
    sides = {"text_dominant": (pairs[0]["text_rich"], pairs[0]["text_rich_images"])}
    sides["text_lite"] = (pairs[1]["text_rich"], pairs[1]["text_rich_images"])
    sides["vision_dominant"] = (pairs[2]["text_rich"], pairs[2]["text_rich_images"])
    sides["vision_only"] = (pairs[2]["vision_rich"], pairs[2]["vision_rich_images"])
    assert pairs[0]["vision_rich"] == sides["text_lite"][0] and pairs[1]["vision_rich"] == sides["vision_dominant"][0]
    expected = {
        "text_dominant": (PROBLEM, []),
        "text_lite": (f"{CONDITIONS} {QUESTION}", [DESCRIPTION]),
        "vision_dominant": (QUESTION, [DESCRIPTION, CONDITIONS]),
        "vision_only": (VISION_ONLY_INSTRUCTION, [DESCRIPTION, CONDITIONS, QUESTION]),
    }
    part_ink = {text: ink(render_text(text, style).image).sum() for text in (DESCRIPTION, CONDITIONS, QUESTION)}
    for level, (prompt, moved) in expected.items():
        messages, images = sides[level]
        assert messages[0]["content"] == [{"type": "text", "text": prompt}, {"type": "image"}], level
        (image,) = images
        assert image.size == (640, 640)
        # the diagram: the only diagram-coloured area, scaled with its aspect ratio kept, below the text
        where = diagram_mask(image)
        rows, cols = np.where(where)
        height, width = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
        assert abs(width / height - 1.5) < 0.02, level
        outside = ~where
        text_ink = ink(image) & outside
        if not moved:
            assert not text_ink.any() and width == 640 - 2 * style.margin, level  # blank but for the diagram
            continue
        text_rows = np.where(text_ink.any(1))[0]
        assert text_rows.max() < rows.min(), level  # the text sits above the diagram (position "top")
        block = render_text(" ".join(moved), style).image  # the same string rendered alone
        assert np.array_equal(np.asarray(image)[: block.height], np.asarray(block)), level
        total = sum(part_ink[part] for part in moved)
        assert abs(text_ink.sum() - total) / total < 0.05, level  # exactly the moved parts, no more, no less
    # each level moves more text into the image than the one before
    inks = [(ink(sides[level][1][0]) & ~diagram_mask(sides[level][1][0])).sum() for level in expected]
    assert inks == sorted(inks) and len(set(inks)) == 4


def test_text_only_rows_get_a_text_only_teacher_and_a_blank_canvas() -> None:
    style = RenderStyle(width=320, height=240)
    pairs = puma_pairs([row("A is 1. B is 2. What is A+B?", images=[])], style=style, positions=("bottom",))
    first = pairs[0]
    assert first["text_rich_images"] == [] and first["text_rich"][0]["content"] == [
        {"type": "text", "text": "A is 1. B is 2. What is A+B?"}
    ]
    image = first["vision_rich_images"][0]
    assert image.size == (320, 240)
    block = render_text("A is 1.", style).image
    assert np.array_equal(np.asarray(image)[240 - block.height :], np.asarray(block))  # at the bottom
    assert not ink(image)[: 240 - block.height].any()  # nothing else on the canvas


def test_formulas_render_through_mathtext_not_as_dollars() -> None:
    """The ink of `$\\frac{a}{b}$` has the size stock matplotlib mathtext gives it (a stacked fraction: taller and
    narrower than one line of its source), not that of the raw `$\\frac{a}{b}$` characters."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.mathtext import math_to_image

    style = RenderStyle(width=400, font_size=20)
    formula = "$\\frac{a}{b} + \\sqrt{x^2}$"
    buffer = io.BytesIO()
    math_to_image(formula, buffer, prop=FontProperties(family="DejaVu Sans", size=20), dpi=72, format="png")
    reference = Image.open(buffer).convert("RGBA")
    reference_ink = np.asarray(reference)[..., 3] > 128  # transparent background, opaque glyphs

    def extent(mask: np.ndarray) -> tuple[int, int]:
        rows, cols = np.where(mask)
        return rows.max() - rows.min() + 1, cols.max() - cols.min() + 1

    rendered = render_text(formula, style)
    assert rendered.fallbacks == []
    got, want = extent(ink(rendered.image)), extent(reference_ink)
    assert abs(got[0] - want[0]) <= 2 and abs(got[1] - want[1]) <= 2, (got, want)
    raw = render_text(formula.replace("$", "\\$"), style)  # the same characters, escaped: drawn literally
    assert extent(ink(raw.image))[1] > 1.5 * got[1]


def test_pairs_answers_agree_and_the_job_writes_puma_rows(tmp_path) -> None:
    import datasets

    from mmreason.synth.outputs import job_data_files

    rows = [row(row_id=f"geo-{i}") for i in range(3)] + [
        row(images=[diagram(), diagram()], row_id="two-images"),
        row(answer="", row_id="no-answer"),
        row("x " * 3000, row_id="too-long"),
    ]
    stage = PumaPairsStage(style=RenderStyle(width=256, height=256, font_size=12, min_font_size=10))
    results = stage.process_batch(rows)
    assert [type(r) for r in results[3:]] == [StageFailure] * 3
    assert all(not r.retryable for r in results[3:])
    assert "2 images" in results[3].reason and "no answer" in results[4].reason
    assert "max_chars" in results[5].reason or "does not fit" in results[5].reason
    summary = run_job(stage, rows, tmp_path / "job", batch_size=2, progress=False)
    assert summary.output_rows == 9 and summary.permanent_failures == 3 and summary.done
    written = datasets.Dataset.from_parquet([str(f) for f in job_data_files(tmp_path / "job")])
    assert written.features == stage.features
    assert sorted(written["id"]) == sorted(f"geo-{i}-puma-{a}-{b}" for i in range(3)
                                          for a, b in stage.pairs)  # fmt: skip
    for pair in written:
        assert pair["answer"] == ANSWER
        assert pair["text_rich"][-1] == pair["vision_rich"][-1] == {
            "role": "assistant", "content": [{"type": "text", "text": ANSWER}]}  # fmt: skip
        assert [im.size for im in pair["vision_rich_images"]] == [(256, 256)]


def test_renders_are_deterministic_per_seed() -> None:
    ids = [f"p{i}" for i in range(4)]
    rows = [row(row_id=i) for i in ids]
    first = PumaPairsStage(style=RenderStyle(width=320, height=320, font_size=10), seed=7).process_batch(rows)
    again = PumaPairsStage(style=RenderStyle(width=320, height=320, font_size=10), seed=7).process_batch(rows)
    for a, b in zip(first, again, strict=True):
        assert [p["vision_rich_images"][0].tobytes() for p in a] == [p["vision_rich_images"][0].tobytes() for p in b]
    for seed in (7, 8):  # the documented draw: Random(f"{seed}:{row id}").choice(positions)
        stage = PumaPairsStage(seed=seed)
        assert [stage.position(i) for i in ids] == [random.Random(f"{seed}:{i}").choice(("top", "bottom"))
                                                   for i in ids]  # fmt: skip
    positions = [PumaPairsStage(seed=s).position("p0") for s in range(20)]
    assert set(positions) == {"top", "bottom"}
    # the drawn position is where the text is
    for pairs, i in zip(first, ids, strict=True):
        image = pairs[-1]["vision_rich_images"][0]
        text_rows = np.where((ink(image) & ~diagram_mask(image)).any(1))[0]
        top = PumaPairsStage(seed=7).position(i) == "top"
        assert (text_rows.max() < 160) if top else (text_rows.min() > 160)


def test_compose_boxes_and_resolution() -> None:
    style = RenderStyle(width=300, height=500)
    rendered = compose("Find $x$.", diagram(), style, position="bottom")
    assert rendered.image.size == (300, 500)
    left, top, right, bottom = rendered.diagram_box
    assert (right - left, bottom - top) == (268, 179)  # 300 - 2*16 wide, aspect 3:2 kept (268 / 1.5 = 178.7)
    assert rendered.text_box[3] == 500 and rendered.text_box[1] >= bottom
    with pytest.raises(ValueError, match="position"):
        compose("x", None, style, position="left")


def test_pairs_feed_the_puma_trainers_collator_and_the_model() -> None:
    """What the PUMA trainer does with a batch: both sides collated, the same supervised tokens, a forward each."""
    import torch

    from mmreason.testing import build_tiny
    from mmreason.train.puma_data import PUMAPairCollator

    model, processor = build_tiny()
    pairs = puma_pairs([row(), row("A is 1. B is 2. What is A+B?", images=[], row_id="text-only")],
                       style=RenderStyle(width=128, height=128, font_size=8, min_font_size=4, margin=4))  # fmt: skip
    assert len(pairs) == 6
    batch = PUMAPairCollator(processor)(pairs)  # raises if a pair's two sides supervise different tokens
    assert (batch["student"]["labels"] != -100).sum() == (batch["teacher"]["labels"] != -100).sum() > 0
    with torch.no_grad():
        for side in ("teacher", "student"):
            assert torch.isfinite(model(**batch[side]).loss)
