"""Stage 5: held-out evaluation after every stage with the eval runner (`procedural` benchmark, greedy), plus the
chance and majority-class baselines each subset is compared against."""

from __future__ import annotations

import shutil
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import datasets

from ..eval.runner import run_eval
from ..generation import TransformersBackend
from .pairs import gold_answer

#: the held-out subsets (the `procedural` benchmark's splits), in report order
SUBSETS = ("easy_vision", "easy_text", "hard_vision", "hard_text")


def evaluate(model: Any, processor: Any, data_dir: Path, out: Path, name: str, max_new_tokens: int) -> dict:
    """Greedy answers to every held-out question through `run_eval`; returns `{subset: accuracy}` (strict
    scorer) and writes the runner's report under `out`.

    The folder is emptied first: the runner resumes from predictions whose run had the same model *name* and
    generation settings, and a quickstart run again into the same output folder (other steps, same stage names)
    would otherwise score the previous run's answers."""
    shutil.rmtree(out / "procedural", ignore_errors=True)
    backend = TransformersBackend(
        (model, processor), batch_size=64, max_new_tokens=max_new_tokens, system_prompt=None
    )  # the chat template's default system prompt, as in training
    results = run_eval("procedural", backend, out, data=str(data_dir), modes=("strict",), model_name=name)
    by_subset = results["metrics"]["strict"]["subset"]
    return {subset: by_subset[subset]["accuracy"] for subset in SUBSETS if subset in by_subset}


def baselines(sft_rows: datasets.Dataset, tests: dict[str, datasets.Dataset]) -> dict[str, dict[str, float]]:
    """`{"chance": {subset: acc}, "majority": {subset: acc}}` on the held-out subsets.

    chance: a uniform guess among the options of a multiple-choice question, else among the distinct gold answers
    of the question's family and level in the training split; majority: always the most frequent training answer of
    the question's family and level."""
    answers: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for source, group, messages in zip(sft_rows["source"], sft_rows["quality_group"], sft_rows["messages"]):
        family, level = source.split("/", 1)[-1], group.split("-", 1)[0]
        answers[(family, level)][gold_answer(messages[-1]["content"][0]["text"])] += 1
    chance: dict[str, float] = {}
    majority: dict[str, float] = {}
    for subset, rows in tests.items():
        guesses, hits = [], []
        for family, level, choices, answer in zip(rows["family"], rows["level"], rows["choices"], rows["answer"]):
            seen = answers.get((family, level), Counter())
            guesses.append(1 / len(choices) if choices else 1 / max(1, len(seen)))
            hits.append(bool(seen) and seen.most_common(1)[0][0] == answer)
        chance[subset] = sum(guesses) / max(1, len(guesses))
        majority[subset] = sum(hits) / max(1, len(hits))
    return {"chance": chance, "majority": majority}


__all__ = ["SUBSETS", "baselines", "evaluate"]
