"""MathVerse (`CaraJ/MathVerse-lmmseval`, testmini): the official quick match, and a rule-based "mathverse (rule)".

The official protocol of `ZrrSkywalker/MathVerse` is judge-based:

* `evaluation/extract_answer_s1.py`: optionally keep the last N space-separated words of the response
  (`--trunk_response N`, `trunk_response`), then GPT extracts the answer (`demo_prompt_extract`, may say `null`).
* `evaluation/score_answer_s2.py::match_answer`: with `--quick_match` the verdict is `answer == extraction`; otherwise
  a GPT judge compares question, standard answer and extraction (`demo_prompt_score`, "Judgement: 0/1").
  Accuracy is reported per `problem_version` and per subject/subfield.

`official` here is the only rule-based part of that: the (truncated, trimmed) response stands in for the GPT
extraction, and it is correct when it equals the answer exactly (quick match); every other response gets
`correct=False` with the flag `"needs_judge"`; `mmreason.eval.judge` decides those rows with the official prompts
when a judge endpoint is configured (`mmreason eval --judge_base_url`).

`strict` is NOT the official protocol; report it as "mathverse (rule)". It reads the final answer (`\\boxed{}`,
"Answer: ...", a short last line), matches option letters against the `Choices:` block of the question, and compares
free-form answers numerically (units, `%`, `x = ...` prefixes, rounding to the answer's decimals) or, for symbolic
answers (π, √, fractions), as normalised LaTeX strings. `backend="math_verify"` also asks `math_verify.verify`.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from .base import STRICT_READING, Scorer, Verdict, bounded, check_span
from .extract import LETTERS, after_think, clean_latex
from .matching import load_math_verify
from .mathvista import (
    answer_span,
    last_line_letter,
    option_letter,
    round_half_up,
    strip_relation,
    to_number,
)

_CHOICES_BLOCK = re.compile(r"\bChoices?\s*[:\uff1a]\s*\n?(.*)$", re.DOTALL | re.IGNORECASE)
_OPTION_LINE = re.compile(r"^\s*\(?([A-Z])\)?\s*[:.)\uff1a]\s*(.*?)\s*$", re.MULTILINE)
_GOLD_LETTER = re.compile(r"^\(?([A-Z])\)?$")
_LETTER_TOKEN = re.compile(r"(?<![A-Za-z])([A-Z])(?![A-Za-z])")
_NUMBER_START = re.compile(r"^[-+\u2212]?(?:\.?\d|\\[dt]?frac\s*\{\s*\d)")
_DECIMALS = re.compile(r"\d\.(\d+)")
_TRAILING_UNIT = re.compile(
    r"(?<![A-Za-z\\])(?:square|sq\.?|cubic)?\s*(?:[kcm]?m|in|inches|ft|feet|yd|yards?|miles?|units?|metres?|"
    r"meters?|degrees?|radians?|cm|mm|km|kg)(?:\^\{?[23]\}?)?\.?\s*$",
    re.IGNORECASE,
)
_SQRT_BARE = re.compile(r"\\sqrt\s*(\d+|[a-zA-Z])")
_SPACES = re.compile(r"\s+")
_CANON_REPLACE = (
    ("\u221a", "\\sqrt"), ("\u03c0", "\\pi"), ("\u00b2", "^2"), ("\u00b3", "^3"), ("\\dfrac", "\\frac"),
    ("\\tfrac", "\\frac"), ("\\cdot", "*"), ("\\times", "*"), ("\u00d7", "*"), ("^{2}", "^2"), ("^{3}", "^3"),
    ("~", ""), ("\\circ", ""), ("\u63b3", ""), ("\u2212", "-"),
)  # fmt: skip
#: letters A-E are valid when the question text has no choices block (options shown only in the image)
DEFAULT_NUM_OPTIONS = 5


def parse_options(question: str) -> list[str]:
    """The option texts of the question's `Choices:` (or `Choice:`) block: lines `A:40°`, `B. 60°`, `(C) 120°`."""
    block = _CHOICES_BLOCK.search(question or "")
    if block is None:
        return []
    options: list[str] = []
    for letter, text in _OPTION_LINE.findall(block.group(1)):
        if letter != LETTERS[len(options)]:
            break
        options.append(text)
    return options


def canonical(text: str) -> str:
    """A LaTeX answer reduced for string comparison: `$`, `\\text{}`, `lhs =`, trailing units and spaces dropped,
    `√`/`π`/`²` spelled in LaTeX, `\\sqrt3` braced, lowercase. (Whitespace runs become one space first, so the
    unit pattern never rescans a run.)"""
    text = _SPACES.sub(" ", clean_latex(text))
    for old, new in _CANON_REPLACE:
        text = text.replace(old, new)
    text = strip_relation(text)
    text = _TRAILING_UNIT.sub("", text).strip() or text
    text = _SQRT_BARE.sub(r"\\sqrt{\1}", text)
    return _SPACES.sub("", text).rstrip(".").lower()


def gold_number(answer: str) -> float | None:
    """The answer as a number when it is one (`14`, `4.6 m`, `Area $=113.1 \\mathrm{~cm}^{2}$`, `329° T`); `None`
    for symbolic answers and for text around a number such as the bearing `S 23.5° W`."""
    text = strip_relation(clean_latex(answer))
    return to_number(answer) if _NUMBER_START.match(text) else None


def numbers_match(pred: float, gold: float, gold_text: str) -> bool:
    """Equal as numbers, or equal once `pred` is rounded half-up to the decimals the answer is written with."""
    if abs(pred - gold) <= 1e-9 + 1e-6 * abs(gold):
        return True
    decimals = _DECIMALS.findall(clean_latex(gold_text))
    return len(decimals) == 1 and round_half_up(pred, len(decimals[0])) == round_half_up(gold, len(decimals[0]))


def truncate_response(response: str, words: int) -> str:
    """The official `trunk_response`: the last `words` space-separated words (all of it when `words <= 0`)."""
    return response if words <= 0 else " ".join(response.split(" ")[-words:])


class MathVerseScorer(Scorer):
    """MathVerse testmini scorer.

    Args:
        prompt_type: `"query_cot"` (reason, then answer) or `"query_wo"` (answer directly), the dataset's prompts.
        trunk_response: official `--trunk_response N` (keep the last N words before extraction; `-1`: all).
        backend: `"rule"`, or `"math_verify"` to also accept free-form answers `math_verify.verify` calls equal
            (strict mode only).
    """

    name = "mathverse"
    breakdown = ("problem_version", "subject", "subfield")
    STRICT_CHANGES: ClassVar[tuple[str, ...]] = (
        "Rule-based throughout ('mathverse (rule)'): no GPT extraction and no GPT judge, so every response gets a "
        "verdict; numbers are not comparable with judge-scored tables.",
        "The final answer is read from `\\boxed{}`, 'Answer:'/'The answer is', `<answer>` tags or a short last line, "
        "not from the whole response; a response without one is a miss (`no_answer`).",
        "Multiple choice: the single option letter (or the exact option text) from the question's `Choices:` block; "
        "several different letters are a miss, not a judge call.",
        "Free-form numbers are compared numerically (units, `%`, `1,000`, `x = ...`, `\\frac{a}{b}`), also after "
        "rounding the prediction to the answer's decimals; the official quick match needs identical strings.",
        "Symbolic answers (π, √, fractions) are compared as normalised LaTeX (spaces, `$`, units, `\\dfrac`, `√` "
        "spellings ignored), never by a judge's sense of 'same meaning' (0.5 m vs 50 cm is a miss).",
        "`trunk_response` applies only to `official`.",
        STRICT_READING,
    )

    def __init__(self, prompt_type: str = "query_cot", trunk_response: int = -1, backend: str = "rule") -> None:
        if prompt_type not in ("query_cot", "query_wo"):
            raise ValueError(f"prompt_type must be 'query_cot' or 'query_wo', not {prompt_type!r}")
        if backend not in ("rule", "math_verify"):
            raise ValueError(f"backend must be 'rule' or 'math_verify', not {backend!r}")
        self.prompt_type = prompt_type
        self.trunk_response = trunk_response
        self.backend = backend
        self._verify = load_math_verify() if backend == "math_verify" else None

    def prompt(self, doc: dict[str, Any]) -> str:
        """The row's `query_cot` / `query_wo` (the other one, then the bare question, when missing)."""
        other = "query_wo" if self.prompt_type == "query_cot" else "query_cot"
        return doc.get(self.prompt_type) or doc.get(other) or str(doc.get("question") or "")

    @bounded
    def score(self, response: str, doc: dict[str, Any], mode: str = "strict") -> Verdict:
        if mode == "official":
            extraction = truncate_response(response, self.trunk_response).strip()
            if extraction == doc["answer"]:
                return Verdict(True, extraction)
            return Verdict(False, None, ["needs_judge"])
        return self._strict(response, doc)

    def _strict(self, response: str, doc: dict[str, Any]) -> Verdict:
        response = after_think(response)
        span = check_span(answer_span(response))
        answer = str(doc["answer"]).strip()
        if str(doc.get("question_type", "")).startswith("multi"):
            verdict = self._strict_choice(response, span, answer, str(doc.get("question") or ""))
            if verdict is not None:
                return verdict
        if span is None:
            return Verdict(False, None, ["no_answer"])
        gold = gold_number(answer)
        if gold is not None:
            value = to_number(span)
            correct = value is not None and numbers_match(value, gold, answer)
            extracted = span if value is None else (str(int(value)) if value.is_integer() else repr(value))
        else:
            correct, extracted = canonical(span) == canonical(answer), span
        if not correct and self._verify is not None:
            correct = self._verify(answer, span)
        return Verdict(correct, extracted)

    @staticmethod
    def _strict_choice(response: str, span: str | None, answer: str, question: str) -> Verdict | None:
        """Letter matching for a multi-choice row; `None` when the gold answer is neither letters nor an option."""
        options = parse_options(question)
        gold = _GOLD_LETTER.match(answer)
        golds = {gold.group(1)} if gold else set()
        if not golds and "\n" in answer and all(_GOLD_LETTER.match(a.strip()) for a in answer.splitlines()):
            golds = {a.strip().strip("()") for a in answer.splitlines()}  # several correct options, e.g. "C\nD"
        if not golds and options:
            hits = [LETTERS[i] for i, o in enumerate(options) if canonical(o) == canonical(answer)]
            golds = set(hits[:1])
        if not golds:
            return None
        count = max(len(options) or DEFAULT_NUM_OPTIONS, 1 + max(LETTERS.index(g) for g in golds))
        if len(golds) > 1:
            found = set(_LETTER_TOKEN.findall(span or "")) & set(LETTERS[:count])
            return Verdict(found == golds, ",".join(sorted(found)) or None, [] if found else ["no_answer"])
        letter = option_letter(span, options, count) or last_line_letter(response, count)
        if letter is None:
            return Verdict(False, None, ["no_answer"])
        return Verdict(letter in golds, letter)


__all__ = ["MathVerseScorer", "canonical", "gold_number", "numbers_match", "parse_options", "truncate_response"]
