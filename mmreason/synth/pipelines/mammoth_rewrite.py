"""MAmmoTH-VL's rewrite + filter (`../shared/reference/algorithms.md` §1.1), on served or in-process models.

Three model calls per row, each with a versioned prompt of `mmreason/synth/prompts/` (our wording: the paper's
prompts are figures only):

1. **categorize** (`mammoth_categorize`, text model): A caption-only / B reasoning-light / C reasoning-heavy,
   read from `Category: X` ([`parse_category`]);
2. **rewrite** into a question, a step-by-step rationale and a final answer ([`parse_rewrite`]): caption-only rows
   by the text-only LLM from the caption (`mammoth_rewrite_caption`, the paper's Llama-3-70B step), the others by
   the MLLM with the image (`mammoth_rewrite_mllm`, InternVL2-76B's step; light rows get a short rationale, heavy
   rows a detailed one);
3. **judge** (`mammoth_judge`, the MLLM with the image): a 1-5 score, a Yes/No verdict (image relevance, logical
   consistency, factual accuracy all hold) and a one-sentence reason ([`parse_judge`]). A row passes on "Yes".

Output rows are canonical rows (the rewritten conversation, the input's images) plus `rewrite_category`,
`judge_score`, `judge_verdict`, `judge_reason` and `judge_passed`; rows the judge rejects are kept (for the data
report's pass rate) unless `keep_rejected=False` — train on `dataset.filter(lambda r: r["judge_passed"])`.
Unparseable model output is a failure with its reason (retryable: a sampled rerun may parse).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..prompts import load_prompt
from ..stage import StageFailure
from .common import (
    ParseError,
    RowError,
    backend_settings,
    bare,
    model_step,
    read_turn,
    sampling,
    text_part,
    user_message,
)

CATEGORIES = {"A": "caption-only", "B": "reasoning-light", "C": "reasoning-heavy"}
DEPTH = {
    "B": "The answer needs little reasoning: give a short rationale of one to three sentences.",
    "C": "The answer needs several steps: give a detailed rationale with every step and intermediate result.",
}
_CATEGORY = re.compile(r"\bcategory\s*[:\uff1a]?\s*\**\s*\(?([ABC])\b", re.IGNORECASE)
_LONE_LETTER = re.compile(r"^\W*([ABC])\W*$")
_SECTION = re.compile(
    r"^\s*\**\s*(question|answer|final answer)\s*\**\s*[:\uff1a]\s*\**", re.IGNORECASE | re.MULTILINE
)
_SCORE = re.compile(r"\bscore\s*\**\s*[:\uff1a]\s*\**\s*([1-5])(?:\s*/\s*5)?\b", re.IGNORECASE)
_VERDICT = re.compile(r"\bverdict\s*\**\s*[:\uff1a]\s*\**\s*(yes|no)\b", re.IGNORECASE)
_REASON = re.compile(r"\breason\s*\**\s*[:\uff1a]\s*\**\s*(.+)", re.IGNORECASE | re.DOTALL)


def parse_category(text: str) -> str:
    """`"A"`, `"B"` or `"C"` from a categorizer reply: the last `Category: X` (any case, `**`/`(` around the
    letter allowed), or a reply that is the bare letter.

    Raises:
        ParseError: no category, or `Category:` lines that disagree.
    """
    found = {match.upper() for match in _CATEGORY.findall(text)}
    if not found and (lone := _LONE_LETTER.match(text.strip())):
        found = {lone.group(1)}
    if len(found) != 1:
        raise ParseError(
            "categorize: " + ("no 'Category: A/B/C'" if not found else f"several categories {sorted(found)}")
        )
    return found.pop()


@dataclass(frozen=True)
class Rewrite:
    """A rewritten sample: `answer` is the rationale followed by `Final answer: <final>`."""

    question: str
    rationale: str
    final: str

    @property
    def answer(self) -> str:
        """The assistant turn: rationale, blank line, `Final answer: ...`."""
        return f"{self.rationale}\n\nFinal answer: {self.final}"


def parse_rewrite(text: str) -> Rewrite:
    """The `Question:` / `Answer:` / `Final answer:` sections of a rewriter reply (markdown bold and case
    ignored; the last occurrence of each section counts).

    Raises:
        ParseError: a section is missing or empty, or they come out of order.
    """
    marks = [(m.group(1).lower(), m.start(), m.end()) for m in _SECTION.finditer(text)]
    last: dict[str, tuple[int, int]] = {}
    for name, start, end in marks:
        last[name] = (start, end)
    if missing := [name for name in ("question", "answer", "final answer") if name not in last]:
        raise ParseError(f"rewrite: no '{missing[0].title()}:' section")
    order = sorted(last, key=lambda name: last[name][0])
    if order != ["question", "answer", "final answer"]:
        raise ParseError("rewrite: sections out of order")
    bounds = [last[name] for name in order] + [(len(text), len(text))]
    values = [text[bounds[i][1] : bounds[i + 1][0]].strip().strip("*").strip() for i in range(3)]
    if not all(values):
        raise ParseError(f"rewrite: empty '{order[values.index('')].title()}:' section")
    if "\n" in values[2]:
        values[2] = values[2].splitlines()[0].strip()
    return Rewrite(*values)


@dataclass(frozen=True)
class Judgement:
    """The judge's reply: `score` 1-5, `passed` (verdict Yes), `reason`."""

    score: int
    passed: bool
    reason: str


def parse_judge(text: str) -> Judgement:
    """`Score: 1-5`, `Verdict: Yes/No`, `Reason: ...` from a judge reply (any case, markdown bold allowed, the last
    of each line counts; `Score: 4/5` is 4; the reason is the rest of its line).

    Raises:
        ParseError: no score, no verdict, or no reason.
    """
    scores, verdicts = _SCORE.findall(text), _VERDICT.findall(text)
    if not scores:
        raise ParseError("judge: no 'Score: 1-5'")
    if not verdicts:
        raise ParseError("judge: no 'Verdict: Yes/No'")
    reason = _REASON.findall(text)
    reason_text = reason[-1].strip().splitlines()[0].strip().strip("*").strip() if reason else ""
    if not reason_text:
        raise ParseError("judge: no 'Reason:'")
    return Judgement(int(scores[-1]), verdicts[-1].lower() == "yes", reason_text)


def mammoth_features() -> Any:
    """The output rows' features: the canonical row's (without videos) plus the category and the judge's record."""
    import datasets

    from ...data.schema import row_features

    features = row_features(with_videos=False)
    features.update(
        {
            "rewrite_category": datasets.Value("string"),
            "judge_score": datasets.Value("int32"),
            "judge_verdict": datasets.Value("string"),
            "judge_reason": datasets.Value("string"),
            "judge_passed": datasets.Value("bool"),
        }
    )
    return features


class MammothRewriteStage:
    """Categorize → rewrite → judge as a job-runner [`Stage`].

    Args:
        mllm: the multimodal model that rewrites non-caption rows and judges (the paper: InternVL2-Llama3-76B).
        text_llm: the text-only model that categorizes and rewrites caption-only rows (the paper: Llama-3-70B);
            default `mllm`.
        judge: the judge model (default `mllm`: the paper judges with the rewriting model).
        temperature / max_new_tokens: decoding of the rewrite (categorize and judge are greedy).
        keep_rejected: also output the rows the judge rejects (`judge_passed=False`).
    """

    name = "mammoth_rewrite"

    def __init__(
        self, mllm: Any, text_llm: Any = None, judge: Any = None, temperature: float = 0.0,
        max_new_tokens: int = 1024, keep_rejected: bool = True,
    ):  # fmt: skip
        self.mllm, self.text_llm, self.judge = mllm, text_llm or mllm, judge or mllm
        self.keep_rejected = keep_rejected
        self.rewrite_sampling = sampling(temperature, max_new_tokens=max_new_tokens)
        self.greedy = sampling(0.0, max_new_tokens=256)
        self.prompts = {name: load_prompt(f"mammoth_{name}") for name in
                        ("categorize", "rewrite_caption", "rewrite_mllm", "judge")}  # fmt: skip
        self.features = mammoth_features()

    def settings(self) -> dict[str, Any]:
        """The prompts, the three models and their decoding."""
        return {
            "prompts": {name: prompt.settings() for name, prompt in self.prompts.items()},
            "mllm": backend_settings(self.mllm), "text_llm": backend_settings(self.text_llm),
            "judge": backend_settings(self.judge), "rewrite_sampling": self.rewrite_sampling.settings(),
            "greedy": self.greedy.settings(), "keep_rejected": self.keep_rejected,
        }  # fmt: skip

    def process_batch(self, rows: list[dict[str, Any]]) -> list[list[dict[str, Any]] | StageFailure]:
        """Each step runs over the batch's surviving rows at once (one `generate` call per step and model)."""
        results: list[Any] = [None] * len(rows)
        turns: dict[int, Any] = {}
        for index, row in enumerate(rows):
            try:
                turns[index] = read_turn(row)
                if not turns[index].answer:
                    raise RowError("no reference answer (empty assistant turn)")
            except RowError as error:
                turns.pop(index, None)
                results[index] = StageFailure(str(error), retryable=False)
        categories = model_step(
            results,
            turns,
            "categorize",
            self.text_llm,
            self.greedy,
            parse_category,
            lambda i, t: [user_message([text_part(self._render("categorize", t))])],
        )
        caption = {i: turns[i] for i in categories if categories[i] == "A"}
        other = {i: turns[i] for i in categories if categories[i] != "A"}
        rewrites = model_step(
            results,
            caption,
            "rewrite",
            self.text_llm,
            self.rewrite_sampling,
            parse_rewrite,
            lambda i, t: [user_message([text_part(self._render("rewrite_caption", t))])],
        )
        rewrites |= model_step(
            results,
            other,
            "rewrite",
            self.mllm,
            self.rewrite_sampling,
            parse_rewrite,
            lambda i, t: self._mllm_request(t, categories[i]),
        )
        judged = model_step(
            results,
            {i: (turns[i], rewrites[i]) for i in rewrites},
            "judge",
            self.judge,
            self.greedy,
            parse_judge,
            self._judge_request,
        )
        for index, verdict in judged.items():
            if verdict.passed or self.keep_rejected:
                results[index] = [self._row(rows[index], turns[index], categories[index], rewrites[index], verdict)]
            else:
                results[index] = []
        return results

    def _render(self, name: str, turn: Any, **extra: str) -> str:
        return self.prompts[name].render(question=turn.question, answer=turn.answer, **extra)

    def _mllm_request(self, turn: Any, category: str) -> list[dict[str, Any]]:
        text = self._render("rewrite_mllm", turn, depth=DEPTH[category])
        return [user_message([*turn.image_parts, text_part(text)])]

    def _judge_request(self, index: int, item: tuple) -> list[dict[str, Any]]:
        turn, rewrite = item
        text = self.prompts["judge"].render(question=rewrite.question, answer=rewrite.answer)
        return [user_message([*turn.image_parts, text_part(text)])]

    def _row(self, row: dict[str, Any], turn: Any, category: str, rewrite: Rewrite, verdict: Judgement) -> dict:
        return {
            "id": f"{row['id']}-rw", "source": row.get("source") or "", "category": row.get("category") or "",
            "quality_group": row.get("quality_group") or "",
            "messages": [user_message(bare([*turn.image_parts, text_part(rewrite.question)])),
                         {"role": "assistant", "content": [text_part(rewrite.answer)]}],
            "images": list(turn.images), "rewrite_category": category, "judge_score": verdict.score,
            "judge_verdict": "Yes" if verdict.passed else "No", "judge_reason": verdict.reason,
            "judge_passed": verdict.passed,
        }  # fmt: skip


def mammoth_rewrite(rows: list[dict[str, Any]], mllm: Any, **options: Any) -> list[dict[str, Any]]:
    """The rewrite + filter over rows in memory (failed rows give none; run it with
    `mmreason.synth.run_job(MammothRewriteStage(...), ...)` to record and retry them)."""
    stage = MammothRewriteStage(mllm, **options)
    return [out for result in stage.process_batch(list(rows)) if isinstance(result, list) for out in result]


__all__ = [
    "CATEGORIES", "Judgement", "MammothRewriteStage", "ParseError", "Rewrite", "mammoth_features",
    "mammoth_rewrite", "parse_category", "parse_judge", "parse_rewrite",
]  # fmt: skip
