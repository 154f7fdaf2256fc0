"""A problem in mmreason's row formats: a canonical SFT row, a PUMA pair row, a prompt row (GRPO), a `procedural`
benchmark row."""

from __future__ import annotations

from typing import Any

from ..preference import check_puma_row, text_message
from .problem import VIEWS, Problem, user_prompt


def _check_view(view: str) -> None:
    if view not in VIEWS:
        raise ValueError(f"view must be one of {VIEWS}, not {view!r}")


def prompt_of(problem: Problem, view: str) -> str:
    """The user text of `view`: the question ("vision"), or the description then the question ("text")."""
    _check_view(view)
    return user_prompt(problem.question, problem.choices, problem.description if view == "text" else None)


def _conversation(problem: Problem, view: str) -> list[dict[str, Any]]:
    user = {"role": "user", "content": [{"type": "image", "text": None},
                                        {"type": "text", "text": prompt_of(problem, view)}]}  # fmt: skip
    return [user, text_message("assistant", problem.rationale)]


def sft_row(problem: Problem, view: str = "vision") -> dict[str, Any]:
    """A canonical row (`mmreason.data.schema`, no `videos`): the image, the view's prompt, the rationale.

    The text view keeps the image and adds the scene description before the question. `id` is
    "<problem id>-<view>", `source` "procedural/<family>", `quality_group` "<level>-<view>"."""
    return {
        "id": f"{problem.id}-{view}",
        "source": f"procedural/{problem.family}",
        "category": "single_image",
        "quality_group": f"{problem.level}-{view}",
        "messages": _conversation(problem, view),
        "images": [problem.image],
    }


def prompt_row(problem: Problem, view: str = "vision") -> dict[str, Any]:
    """A prompt row for RL with verifiable rewards (`mmreason.train.ReasoningGRPOTrainer`): `prompt` (the user
    turn of [`sft_row`]), `images`, and `answer` (what `mmreason.rewards.AccuracyReward("procedural")` checks)."""
    return {
        "id": f"{problem.id}-{view}",
        "source": f"procedural/{problem.family}",
        "quality_group": f"{problem.level}-{view}",
        "prompt": _conversation(problem, view)[:1],
        "images": [problem.image],
        "answer": problem.answer,
    }


def puma_row(problem: Problem) -> dict[str, Any]:
    """A PUMA pair row (`mmreason.data.preference.puma_features`): text-rich twin → vision-rich problem, both with
    the image, both answered by the rationale."""
    row = {
        "id": problem.id,
        "source": f"procedural/{problem.family}",
        "answer": problem.rationale,
        "text_rich": _conversation(problem, "text"),
        "text_rich_images": [problem.image],
        "vision_rich": _conversation(problem, "vision"),
        "vision_rich_images": [problem.image],
    }
    check_puma_row({**row, "text_rich_images": [""], "vision_rich_images": [""]})  # checks the texts only
    return row


def eval_row(problem: Problem, view: str) -> dict[str, Any]:
    """A row of the `procedural` benchmark: `id`, `family`, `level`, `view`, `subset` ("<level>_<view>"),
    `question` (the view's question, with the description for "text"), `choices` ([] when none), `answer`,
    `image`. The scorer's prompt adds the choices and the answer instruction, as `sft_row` does."""
    _check_view(view)
    return {
        "id": problem.id,
        "family": problem.family,
        "level": problem.level,
        "view": view,
        "subset": f"{problem.level}_{view}",
        "question": problem.question if view == "vision" else f"{problem.description}\n{problem.question}",
        "choices": list(problem.choices or []),
        "answer": problem.answer,
        "image": problem.image,
    }


__all__ = ["eval_row", "prompt_of", "prompt_row", "puma_row", "sft_row"]
