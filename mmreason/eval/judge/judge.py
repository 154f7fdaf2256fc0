"""[`Judge`]: the official protocols' LLM steps for the rows the rule-based `official` mode leaves undecided.

Only `official` verdicts change, and only these rows (every other verdict, and `strict`, are untouched):

* MathVista, rows flagged `needs_judge`: the judge extracts the answer (`prompts.mathvista_extract`); the
  extraction then goes through the existing official `normalize_extracted_answer` port and `safe_equal`.
* MathVerse, rows flagged `needs_judge`: stage 1 extracts (`prompts.mathverse_extract`, on the response after
  `trunk_response`; "Extracted Answer: " removed as `extract_answer_s1.py` does), stage 2 judges the extraction
  against the standard answer (`prompts.mathverse_score`; the reply, "Judgement:" removed, must be 0 or 1).
* DynaMath, rows whose reply is not JSON (`invalid_json`, or `json_too_deep`: DynaMath's own script grades both
  through the sentinel "wait for check"): the judge reformats the reply into a short answer
  (`prompts.dynamath_reformat`, VLMEvalKit's reformat step), which the existing official grading port then grades.

A judged verdict carries the flag `judged`. A call that fails (after the `openai` client's retries), an empty
reply, a MathVerse judgement that is not 0/1, a prompt over `MAX_PROMPT_CHARS` or any other error of the judge
step leaves the row undecided: `correct=False` with the flags `needs_judge` and `judge_failed`, and its reason in
[`Judge.failures`]; it is never scored as an answer.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from ..scorers.base import OVER_BOUND, BoundExceeded, Scorer, Verdict
from . import prompts
from .cache import JudgeCache, cache_key
from .client import JudgeClient, JudgeError

#: the prompts each scorer's official protocol asks
PROMPTS_USED = {
    "mathvista": ("mathvista_extract",),
    "mathverse": ("mathverse_extract", "mathverse_score"),
    "dynamath": ("dynamath_reformat",),
}
#: longest prompt sent (a longer one is a `judge_failed` row)
MAX_PROMPT_CHARS = 200_000
JUDGED = "judged"
JUDGE_FAILED = "judge_failed"


class Judge:
    """An LLM judge for `official` mode, with a persistent reply cache.

    Args:
        client: the endpoint (a [`JudgeClient`], or anything with `ask(prompt) -> str`, `host` and `model`).
        concurrency: parallel judge calls.
    """

    def __init__(self, client: JudgeClient, concurrency: int = 8) -> None:
        self.client, self.concurrency = client, concurrency
        self.cache: JudgeCache | None = None
        #: row key -> why its judge step failed (filled by `resolve`)
        self.failures: dict[str, str] = {}
        #: requests actually sent (cache misses) by the last `resolve`
        self.requests = 0
        self._lock = threading.Lock()

    def use_cache(self, path: Any) -> None:
        """Read and extend the reply cache at `path` (the runner uses `<out>/<benchmark>/judge_cache.jsonl`)."""
        self.cache = JudgeCache(path)

    def identity(self, scorer_name: str | None = None) -> dict[str, Any]:
        """Who judged: endpoint host, model, decoding, and the version and source of each prompt used."""
        names = PROMPTS_USED.get(scorer_name or "", tuple(prompts.PROMPT_VERSIONS))
        facts = self.client.identity() if hasattr(self.client, "identity") else {}
        return {
            **facts, "host": self.client.host, "model": self.client.model,
            "prompts": {n: {"version": prompts.PROMPT_VERSIONS[n], "source": prompts.SOURCES[n]} for n in names},
        }  # fmt: skip

    def ask(self, name: str, prompt: str) -> str:
        """The judge's reply to one prompt (`name` is its `PROMPT_VERSIONS` key), from the cache when there."""
        if len(prompt) > MAX_PROMPT_CHARS:
            raise JudgeError(f"prompt of {len(prompt)} characters (over {MAX_PROMPT_CHARS})")
        key = cache_key(self.client.host, self.client.model, f"{name}@{prompts.PROMPT_VERSIONS[name]}\n{prompt}")
        cached = self.cache.get(key) if self.cache is not None else None
        if cached is not None:
            return cached
        with self._lock:
            self.requests += 1
        reply = self.client.ask(prompt)
        if self.cache is not None:
            self.cache.put(key, name, reply)
        return reply

    def resolve(
        self, scorer: Scorer, keys: Sequence[str], responses: Sequence[str], docs: Sequence[dict[str, Any]],
        verdicts: Sequence[Verdict],
    ) -> list[Verdict]:  # fmt: skip
        """`official` verdicts with the judge's steps applied to the rows the protocol sends to a judge."""
        step = _STEPS.get(scorer.name)
        self.failures, self.requests = {}, 0
        if step is None:
            return list(verdicts)
        todo = [i for i, verdict in enumerate(verdicts) if _needs(scorer.name, verdict)]
        out = list(verdicts)

        def run(i: int) -> tuple[int, Verdict]:
            try:
                return i, step(self, scorer, responses[i], docs[i], verdicts[i])
            except Exception as error:  # one row's judge step fails alone, whatever went wrong
                reason = str(error) if isinstance(error, JudgeError) else f"{type(error).__name__}: {error}"
                with self._lock:
                    self.failures[str(keys[i])] = reason
                return i, Verdict(False, None, ["needs_judge", JUDGE_FAILED])

        with ThreadPoolExecutor(max_workers=max(1, self.concurrency)) as pool:
            for i, verdict in pool.map(run, todo):
                out[i] = verdict
        return out


#: DynaMath: the flags of replies its official script grades through the sentinel "wait for check"
_SENTINEL_FLAGS = ("invalid_json", "json_too_deep")


def _needs(name: str, verdict: Verdict) -> bool:
    if name == "dynamath":
        return any(flag in verdict.flags for flag in _SENTINEL_FLAGS)
    return "needs_judge" in verdict.flags


def _mathvista(judge: Judge, scorer: Any, response: str, doc: dict[str, Any], verdict: Verdict) -> Verdict:
    extraction = judge.ask("mathvista_extract", prompts.mathvista_extract(scorer.prompt(doc), response))
    try:
        prediction = scorer.official_normalize(extraction, doc)
    except BoundExceeded:
        return Verdict(False, None, [OVER_BOUND, JUDGED])
    return Verdict(prediction == doc["answer"], prediction, [JUDGED])


def _mathverse(judge: Judge, scorer: Any, response: str, doc: dict[str, Any], verdict: Verdict) -> Verdict:
    from ..scorers.mathverse import truncate_response

    truncated = truncate_response(response, scorer.trunk_response)
    extraction = judge.ask("mathverse_extract", prompts.mathverse_extract(truncated))
    extraction = extraction.replace("Extracted Answer: ", "").strip()
    prompt = prompts.mathverse_score(str(doc.get("question") or ""), str(doc["answer"]), extraction)
    judgement = judge.ask("mathverse_score", prompt).replace("Judgement:", "").strip()
    if judgement not in ("0", "1"):
        raise JudgeError(f"judgement {judgement[:80]!r} is neither 0 nor 1")
    return Verdict(judgement == "1", extraction, [JUDGED])


def _dynamath(judge: Judge, scorer: Any, response: str, doc: dict[str, Any], verdict: Verdict) -> Verdict:
    from ..scorers.dynamath import official_correct

    answer_type = str(doc.get("answer_type", ""))
    short = judge.ask("dynamath_reformat", prompts.dynamath_reformat(response, answer_type))
    gold = str(doc.get("ground_truth", doc.get("answer", "")))
    flags = [*(f for f in verdict.flags if f not in _SENTINEL_FLAGS), JUDGED]
    return replace(verdict, correct=official_correct(short, gold, answer_type), extracted=short, flags=flags)


_STEPS = {"mathvista": _mathvista, "mathverse": _mathverse, "dynamath": _dynamath}

__all__ = ["JUDGED", "JUDGE_FAILED", "MAX_PROMPT_CHARS", "PROMPTS_USED", "Judge"]
