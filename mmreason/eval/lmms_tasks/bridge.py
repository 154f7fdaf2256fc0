"""The functions mmreason's lmms-eval task yamls name (`!function mmreason.eval.lmms_tasks.bridge.<name>`).

Each benchmark gets `<name>_doc_to_messages` (chat models), `<name>_doc_to_text` / `<name>_doc_to_visual`
(simple models) and `<name>_process_results`, all built from the benchmark's mmreason scorer, so prompts, images and
verdicts are those of `mmreason eval`. `process_results` returns, per sample:

* `official_acc` / `strict_acc`: the verdict of that mode (`correct`, `extracted`, `flags`) plus the row's text
  fields, which [`accuracy`] turns into the scorer's own aggregate accuracy;
* `<mode>_<flag>`: 1 where that mode's verdict carries the flag (`needs_judge`, `random_guess`, `no_answer`),
  which [`count`] sums.

Nothing here imports lmms-eval, torch or openai: lmms-eval calls these functions with plain dataset rows.
"""

from __future__ import annotations

import json
import logging
from functools import cache
from typing import Any

from ..benchmarks import get_benchmark
from ..scorers.base import MODES, Scorer, Verdict

logger = logging.getLogger(__name__)

#: function-name prefix -> mmreason benchmark
TASKS = {"mathvista": "mathvista_testmini", "mmmu": "mmmu_val"}
#: the verdict flags each benchmark's task yaml counts
FLAGS = {
    "mathvista_testmini": ("needs_judge", "no_answer", "over_bound"),
    "mmmu_val": ("random_guess", "no_answer", "over_bound"),
}


@cache
def scorer_for(benchmark: str) -> Scorer:
    """One scorer per benchmark and process (MMMU's official parser draws its random letters from one seeded RNG,
    in row order, as the official script does)."""
    return get_benchmark(benchmark).scorer()


def doc_to_visual(benchmark: str, doc: dict[str, Any]) -> list[Any]:
    """The row's images in prompt order, as RGB PIL images."""
    from ...model.image_io import load_rgb

    return [load_rgb(image) for image in scorer_for(benchmark).images(doc)]


def doc_to_text(benchmark: str, doc: dict[str, Any]) -> str:
    """The benchmark's official text prompt for the row."""
    return scorer_for(benchmark).prompt(doc)


def doc_to_messages(benchmark: str, doc: dict[str, Any]) -> list[dict[str, Any]]:
    """One user turn in lmms-eval's chat protocol: the images (`{"type": "image", "url": PIL}`), then the prompt."""
    parts = [{"type": "image", "url": image} for image in doc_to_visual(benchmark, doc)]
    return [{"role": "user", "content": [*parts, {"type": "text", "text": doc_to_text(benchmark, doc)}]}]


def process_results(benchmark: str, doc: dict[str, Any], results: list[Any]) -> dict[str, Any]:
    """Score the first response of `results` in both modes (see the module docstring for the returned keys)."""
    response = results[0] if results else ""
    response = response if isinstance(response, str) else ""
    text_doc = text_fields(doc)
    flags = FLAGS.get(benchmark, ())
    out: dict[str, Any] = {}
    for mode in MODES:
        verdict = scorer_for(benchmark).score(response, doc, mode)
        out[f"{mode}_acc"] = {
            "benchmark": benchmark,
            "doc": text_doc,
            "correct": bool(verdict.correct),
            "extracted": verdict.extracted,
            "flags": list(verdict.flags),
        }
        out.update({f"{mode}_{flag}": int(flag in verdict.flags) for flag in flags})
    return out


def accuracy(items: list[dict[str, Any]]) -> float:
    """The scorer's aggregate accuracy (0-1) over `official_acc` or `strict_acc` items; logs the full table."""
    if not items:
        return 0.0
    scorer = scorer_for(items[0]["benchmark"])
    verdicts = [Verdict(item["correct"], item["extracted"], item["flags"]) for item in items]
    table = scorer.aggregate([item["doc"] for item in items], verdicts)
    logger.info("%s: %s", items[0]["benchmark"], json.dumps(table, default=str)[:2000])
    return float(table["accuracy"])


def count(items: list[int]) -> int:
    """How many samples carry a flag."""
    return int(sum(items))


def text_fields(doc: dict[str, Any]) -> dict[str, Any]:
    """The row without its images and other non-JSON values (what scorers aggregate over; logged per sample)."""
    kept = {}
    for key, value in doc.items():
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            continue
        kept[key] = value
    return kept


def _bind(name: str, benchmark: str) -> None:
    def messages(doc: dict[str, Any], lmms_eval_specific_kwargs: Any = None) -> list[dict[str, Any]]:
        return doc_to_messages(benchmark, doc)

    def text(doc: dict[str, Any], lmms_eval_specific_kwargs: Any = None) -> str:
        return doc_to_text(benchmark, doc)

    def visual(doc: dict[str, Any]) -> list[Any]:
        return doc_to_visual(benchmark, doc)

    def results(doc: dict[str, Any], results: list[Any], **kwargs: Any) -> dict[str, Any]:
        return process_results(benchmark, doc, results)

    for suffix, fn in (("doc_to_messages", messages), ("doc_to_text", text), ("doc_to_visual", visual),
                       ("process_results", results)):  # fmt: skip
        fn.__name__ = fn.__qualname__ = f"{name}_{suffix}"
        fn.__doc__ = f"`{suffix}` for {benchmark} (see [`{suffix}`])."
        globals()[fn.__name__] = fn


for _name, _benchmark in TASKS.items():
    _bind(_name, _benchmark)

__all__ = ["FLAGS", "TASKS", "accuracy", "count", "doc_to_messages", "doc_to_text", "doc_to_visual", "process_results",
           "scorer_for", "text_fields"]  # fmt: skip
