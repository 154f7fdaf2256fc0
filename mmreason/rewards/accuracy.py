"""[`AccuracyReward`]: 1.0 when a benchmark's scorer says the completion is right, else 0.0.

The verdict is exactly the eval scorer's (`mmreason.eval.scorers`): the benchmark fixes the answer type — choice
letters (MMMU, MathVista multiple choice), numbers with units, percent or fractions (MathVista free form, MathVerse,
DynaMath), LaTeX (MATH-Vision; `backend="math_verify"` when `math-verify` is installed), the procedural set's
`Final answer:` line — so what GRPO optimises is what `mmreason eval` reports.
"""

from __future__ import annotations

from typing import Any

from ..eval.benchmarks import get_benchmark


def completion_text(completion: Any) -> str:
    """The text of one TRL completion: a string, or a conversational list of messages (the assistant turns'
    text parts joined)."""
    if isinstance(completion, str):
        return completion
    texts: list[str] = []
    for message in completion or []:
        content = message.get("content") if isinstance(message, dict) else message
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            texts.extend(str(p.get("text") or "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return "".join(texts)


class AccuracyReward:
    """Accuracy reward of one benchmark's scorer.

    Args:
        benchmark: a registered benchmark (`mmreason.eval.benchmarks.BENCHMARKS`), e.g. "procedural",
            "mathvista_testmini".
        mode: the scoring mode ("strict", the judge-free default, or "official").
        scorer_kwargs: passed to the scorer (e.g. `backend="math_verify"` for MATH-Vision).

    Called with the dataset's columns as keyword lists (TRL's convention); each row's columns form the `doc` the
    scorer reads (its gold answer, choices, answer type, ...). `None` rows (a response the scorer must leave to a
    judge, flag `needs_judge`) are returned as `None`, which TRL leaves out of the reward mean.
    """

    def __init__(self, benchmark: str, mode: str = "strict", **scorer_kwargs: Any):
        self.benchmark, self.mode = benchmark, mode
        self.scorer = get_benchmark(benchmark).scorer(**scorer_kwargs)
        self.__name__ = f"accuracy_{benchmark}"  # TRL logs each reward under its function's name

    def __call__(self, prompts: list[Any] | None = None, completions: list[Any] | None = None,
                 **columns: Any) -> list[float | None]:  # fmt: skip
        completions = completions or []
        rewards: list[float | None] = []
        for index, completion in enumerate(completions):
            doc = {key: values[index] for key, values in columns.items()
                   if isinstance(values, (list, tuple)) and len(values) == len(completions)}  # fmt: skip
            verdict = self.scorer.score(completion_text(completion), doc, self.mode)
            rewards.append(None if "needs_judge" in verdict.flags else float(verdict.correct))
        return rewards


__all__ = ["AccuracyReward", "completion_text"]
