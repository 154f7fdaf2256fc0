"""MathVista (`AI4Math/MathVista`, testmini): the official verdict, and a strict rule-based one.

`official` ports the official pipeline of `lupantech/MathVista`:

* `evaluation/extract_answer.py::extract_answer`: empty response -> `""`; a multiple-choice response that is exactly
  one of the choices; `str(int(response))` for integer answers; `str(float(response))` for float answers; the
  quick-extract regex `The answer is "(.*)"\\.` (`quick_extract=True`, the CLI's `--quick_extract`). Everything
  else goes to the GPT-4 extractor there; here the verdict is `correct=False` with the flag `"needs_judge"`
  (`mmreason.eval.judge` runs that extractor with the official prompt when a judge endpoint is configured).
* `evaluation/calculate_score.py::normalize_extracted_answer` (a `(B)` letter or a bare letter picks that choice,
  anything else snaps to the Levenshtein-closest choice; integers `str(int(float(x)))`; floats
  `str(round(float(x), precision))`; lists `str(x)`) and `safe_equal` (plain string equality with the answer).
* the accuracy breakdown keys of `calculate_score.py::main` (a row counts under each of its `skills`).
* the prompt is the dataset's `query` (rebuilt like `data/query.json` when absent: hint, question, unit, choices).

`strict` reads the final answer (`\\boxed{}`, "Answer: ...", or a short response/last line), names an option only by
its letter or exact text, and compares numbers numerically (units, `%`, `1,000`, `\\frac{}{}` handled); see
`STRICT_CHANGES`. The helpers `answer_span`, `to_number`, `option_letter` and `round_half_up` are reused by the
MathVerse scorer.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, ClassVar

from .base import MAX_EDIT_CHARS, STRICT_READING, BoundExceeded, Scorer, Verdict, accuracy_table, bounded, check_span
from .extract import (
    LETTERS,
    after_think,
    choice_letter,
    clean_latex,
    final_answer_span,
    numbers_equal,
    parse_number,
)
from .matching import levenshtein, load_math_verify

_QUICK_MARKER = 'The answer is "'
_PAREN_LETTER = re.compile(r"\(([a-zA-Z])\)")
_OPTION_MARKER = re.compile(r"(?:correct|right|best)\s+(?:option|choice)\s*(?:is|would be|:)\s*", re.IGNORECASE)
_SENTENCE_END = re.compile(r"\.\s+(?=[A-Z])")
_EDGE_LEAD = re.compile(r"^[\s*`\"']+")
_EDGE_TRAIL_REVERSED = re.compile(r"[\s*`\"'.]+")  # matched on the reversed text: `[...]+$` rescans every run
# possessive, so a run of spaces before no "=" is scanned once (same matches as the lazy `[...]*?\s*=`)
_RELATION = re.compile(r"^(?:.*(?:\u2248|\\approx)|\s*+[A-Za-z\\][\w\\{}()' ]*+\s*=)")
_UNIT_POWER = re.compile(
    r"(?<![A-Za-z\\])((?:[kcdmμ]?m|in|ft|yd|mi|units?|inches|feet|meters?|metres?)\s*)(?:\^\s*\{?\s*[23]\s*\}?|[²³])"
)
_SYMBOLIC = re.compile(
    r"\\pi|π|\\sqrt|√|\\cdot|\\times|\\infty|\\pm|\\log|\\ln|[\u00d7\u00f7*^\u221e\u00b1<>\u2264\u2265]"
)
_LETTER_REST = re.compile(r"^\(?([A-Za-z])\)?\s*[.:)\uff1a]?\s*[(\-\u2013\u2014]?\s*(.+?)\)?$")
_PAREN_ONLY = re.compile(r"(?<![A-Za-z])\(([A-Z])\)(?![A-Za-z])")
_LIST = re.compile(r"\[([^\[\]]*)\]")
_SPACES = re.compile(r"\s+")

#: official hint per (question type, answer type, precision) (`data/query.json`, README "Task instruction" table)
HINTS = {
    "multi_choice": "Please answer the question and provide the correct option letter, e.g., A, B, C, D, at the end.",
    "integer": "Please answer the question requiring an integer answer and provide the final value, e.g., 1, 2, 3, "
    "at the end.",
    "float1": "Please answer the question requiring a floating-point number with one decimal place and provide the "
    "final value, e.g., 1.2, 1.3, 1.4, at the end.",
    "float2": "Please answer the question requiring a floating-point number with two decimal places and provide the "
    "final value, e.g., 1.23, 1.34, 1.45, at the end.",
    "list": "Please answer the question requiring a Python list as an answer and provide the final list, e.g., "
    "[1, 2, 3], [1.2, 1.3, 1.4], at the end.",
}


def quick_extract(response: str) -> str | None:
    """The official quick extraction `re.search(r'The answer is "(.*)"\\.', response).group(1)` in linear time
    (the regex rescans the line from every marker): from the first marker whose line has a later `".`, the text up
    to the last `".` of that line; `None` when there is none."""
    position = 0
    while (start := response.find(_QUICK_MARKER, position)) >= 0:
        start += len(_QUICK_MARKER)
        line_end = response.find("\n", start)
        line_end = len(response) if line_end < 0 else line_end
        end = response.rfind('".', start, line_end)
        if end >= 0:
            return response[start:end]
        position = line_end  # a later marker on this line has no `".` after it either
    return None


def answer_span(response: str, max_len: int = 30) -> str | None:
    """The final answer of a response: `final_answer_span` (or the text after "the correct option is"), cut at the
    next sentence; else the last sentence of the last line when that line has at most `max_len` characters.
    Markdown emphasis, quotes and trailing dots are removed. Only the text after the last `</think>` is read."""
    response = after_think(response)
    span = final_answer_span(response)
    if span is None:
        markers = list(_OPTION_MARKER.finditer(response))
        if markers:
            span = response[markers[-1].end() :].strip().split("\n", 1)[0]
    if span is not None:
        span = _SENTENCE_END.split(span, 1)[0]
    else:
        lines = response.strip().splitlines()
        span = lines[-1].strip() if lines else ""
        if len(span) > max_len:
            return None
        span = _SENTENCE_END.split(span)[-1]
    span = _EDGE_LEAD.sub("", span)
    trail = _EDGE_TRAIL_REVERSED.match(span[::-1])
    span = span[: len(span) - trail.end()] if trail else span
    return span or None


def to_number(text: str | None) -> float | None:
    """`parse_number` after dropping a `lhs =` prefix and unit powers (`cm^2`); `None` for symbolic text (π, √, ^)
    or when not exactly one number is present."""
    if not text:
        return None
    text = clean_latex(text).replace("\\circ", "").replace("\u2212", "-")
    text = strip_relation(text)
    text = _UNIT_POWER.sub(r"\1", text.replace("**", ""))
    if _SYMBOLIC.search(text):
        return None
    return parse_number(text)


def strip_relation(text: str) -> str:
    """The value of `Area = 12`, `f(x) = 2x`, `m\\angle H = 30`, `L ≈ √205 ≈ 14.32` (the part after a simple name
    and `=`, or after the last `≈`); other text unchanged, so `x^2 + y^2 = 1` stays an equation."""
    return _RELATION.sub("", text).strip() or text


def round_half_up(value: float, places: int) -> Decimal | None:
    """`value` rounded half-up to `places` decimals, from its shortest repr (so 1.445 -> 1.45, unlike `round`)."""
    try:
        return Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError, OverflowError):
        return None


def option_letter(span: str | None, options: Sequence[str], num_options: int | None = None) -> str | None:
    """The option a final-answer span names: `choice_letter` on the LaTeX-cleaned span, else `B:60°` / `D (tokyo)`
    (a letter followed by that option's own text); a span that is exactly an option's text (case-sensitive) is that
    option even when it looks like a letter. Never a guess by similarity. `num_options` (default
    `len(options)`) allows letters whose text is unknown (options shown only in the image)."""
    if not span:
        return None
    same = [i for i, option in enumerate(options) if str(option).strip() == span.strip()]
    if same and all(options[i] == options[same[0]] for i in same):  # exact option text first: options like "(b)"
        return LETTERS[same[0]]
    cleaned = clean_latex(span)
    letter = choice_letter(cleaned, max(num_options or 0, len(options)), list(options))
    if letter is not None:
        return letter
    match = _LETTER_REST.match(cleaned)
    if match:
        index = LETTERS.find(match.group(1).upper())
        if 0 <= index < len(options) and _norm_text(match.group(2)) == _norm_text(options[index]):
            return LETTERS[index]
    return None


def last_line_letter(response: str, num_options: int) -> str | None:
    """The single parenthesised letter `(B)` of the response's last line (fallback when no answer span is found)."""
    lines = response.strip().splitlines()
    found = {m for m in _PAREN_ONLY.findall(lines[-1]) if m in LETTERS[:num_options]} if lines else set()
    return found.pop() if len(found) == 1 else None


def _norm_text(text: str) -> str:
    return _SPACES.sub(" ", clean_latex(str(text))).strip().lower()


def _fmt(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def _meta(doc: dict[str, Any], name: str) -> Any:
    if name in doc:
        return doc[name]
    metadata = doc.get("metadata")
    return metadata.get(name) if isinstance(metadata, dict) else None


class MathVistaScorer(Scorer):
    """MathVista testmini scorer.

    Args:
        quick_extract: apply the official quick-extract rule (`The answer is "X".`) before deferring to the judge
            (the official CLI flag `--quick_extract`; lmms-eval leaves it off).
        backend: `"rule"`, or `"math_verify"` to also accept free-form answers `math_verify.verify` calls equal
            when the rules read no number from the response (strict mode only).
    """

    name = "mathvista"
    breakdown = (
        "question_type", "answer_type", "language", "source", "category", "task", "context", "grade", "skills",
    )  # fmt: skip
    STRICT_CHANGES: ClassVar[tuple[str, ...]] = (
        "Answers are read by rule from the final answer (`\\boxed{}`, 'Answer:'/'The answer is', `<answer>` tags, "
        "else a short response or last line) instead of deferring to a GPT-4 extractor; no answer is a miss.",
        "Multiple choice never snaps to the Levenshtein-closest option: only the option letter (`B`, `(B)`, "
        "`Option B`) or the exact option text counts; an empty or ambiguous answer is wrong, not the shortest option.",
        "Integer answers must be integral: 3.9 is not 3 (the official `int(float(x))` truncates).",
        "Floats are compared as numbers rounded half-up to the row's precision, not as `str(round(x, p))` strings.",
        "Units, degree signs, `%`, thousands separators (`1,000`), `x = ...` prefixes and `\\frac{a}{b}` are "
        "handled; symbolic answers (π, √) are not read as numbers.",
        "List answers are compared element-wise as numbers (`[1,2]` equals `[1, 2]`), not as `str(x)` strings.",
        STRICT_READING,
    )

    def __init__(self, quick_extract: bool = True, backend: str = "rule") -> None:
        if backend not in ("rule", "math_verify"):
            raise ValueError(f"backend must be 'rule' or 'math_verify', not {backend!r}")
        self.quick_extract = quick_extract
        self.backend = backend
        self._verify = load_math_verify() if backend == "math_verify" else None

    def prompt(self, doc: dict[str, Any]) -> str:
        """The dataset's `query`, else one built as in `data/query.json`."""
        return doc.get("query") or build_query(doc)

    def images(self, doc: dict[str, Any]) -> list[Any]:
        image = doc.get("decoded_image")
        return [image] if image is not None else super().images(doc)

    @bounded
    def score(self, response: str, doc: dict[str, Any], mode: str = "strict") -> Verdict:
        return self._official(response, doc) if mode == "official" else self._strict(response, doc)

    def aggregate(self, docs: Sequence[dict[str, Any]], verdicts: Sequence[Verdict]) -> dict[str, Any]:
        """`accuracy_table` over the official keys; `skills` (a list per row) counts a row under each skill."""
        table = accuracy_table(docs, verdicts, [f for f in self.breakdown if f != "skills"])
        groups: dict[str, list[bool]] = defaultdict(list)
        for doc, verdict in zip(docs, verdicts):
            for skill in _meta(doc, "skills") or ():
                groups[str(skill)].append(verdict.correct)
        table["skills"] = {k: {"accuracy": sum(v) / len(v), "count": len(v)} for k, v in sorted(groups.items())}
        return table

    # official ----------------------------------------------------------------------------------------------------
    def official_extract(self, response: str, doc: dict[str, Any]) -> str | None:
        """`extract_answer` rules 1-5; `None` where the official code would call the GPT extractor."""
        if response == "":
            return ""
        if doc["question_type"] == "multi_choice" and response in (doc.get("choices") or ()):
            return response
        converter = {"integer": int, "float": float}.get(doc["answer_type"])
        if converter is not None:
            try:
                return str(converter(response))
            except (ValueError, OverflowError):
                pass
        return quick_extract(response) if self.quick_extract else None

    @staticmethod
    def official_normalize(extraction: str, doc: dict[str, Any]) -> str | None:
        """`normalize_extracted_answer` (with `ignore_empty_extractions=False`, the official default); raises
        `BoundExceeded` when the Levenshtein snap would read more than `MAX_EDIT_CHARS` characters."""
        choices = list(doc.get("choices") or ())
        if doc["question_type"] == "multi_choice":
            extraction = str(extraction).strip()
            letters = _PAREN_LETTER.findall(extraction)
            if letters:
                extraction = letters[0].upper()
            if len(extraction) == 1 and 0 <= ord(extraction) - 65 < len(choices):
                return choices[ord(extraction) - 65]
            if sum(max(len(extraction), len(str(choice))) for choice in choices) > MAX_EDIT_CHARS:
                raise BoundExceeded(f"edit distance of a {len(extraction)}-character extraction")
            distances = [levenshtein(extraction, choice) for choice in choices]
            return choices[distances.index(min(distances))]
        precision: Any = doc.get("precision")
        try:
            if doc["answer_type"] == "integer":
                return str(int(float(extraction)))
            if doc["answer_type"] == "float":
                return str(round(float(extraction), int(precision)))
        except (ValueError, OverflowError, TypeError):
            return None
        return str(extraction)  # "list" (and free-form "text", which the official code does not handle)

    def _official(self, response: str, doc: dict[str, Any]) -> Verdict:
        extraction = self.official_extract(response, doc)
        if extraction is None:
            return Verdict(False, None, ["needs_judge"])
        prediction = self.official_normalize(extraction, doc)
        return Verdict(prediction == doc["answer"], prediction, ["no_answer"] if response == "" else [])

    # strict ------------------------------------------------------------------------------------------------------
    def _strict(self, response: str, doc: dict[str, Any]) -> Verdict:
        response = after_think(response)
        span = check_span(answer_span(response))
        answer = str(doc["answer"]).strip()
        if doc["question_type"] == "multi_choice":
            choices = [str(c) for c in doc.get("choices") or ()]
            letter = option_letter(span, choices) or last_line_letter(response, len(choices))
            if letter is None:
                return Verdict(False, None, ["no_answer"])
            index = LETTERS.index(letter)
            return Verdict(index < len(choices) and choices[index] == answer, letter)  # duplicate options both count
        answer_type = doc["answer_type"]
        if answer_type == "list":
            return self._strict_list(response, span, answer)
        value = to_number(span)
        if value is None:
            if self._verify is not None and span and self._verify(answer, span):
                return Verdict(True, span)
            if answer_type == "text" and span:
                return Verdict(_norm_text(span) == _norm_text(answer), span)
            return Verdict(False, None, ["no_answer"])
        gold = to_number(answer)
        if answer_type == "integer":
            correct = gold is not None and value == round(value) and round(value) == round(gold)
        elif answer_type == "float" and doc.get("precision") is not None and gold is not None:
            places = int(doc["precision"])
            correct = round_half_up(value, places) == round_half_up(gold, places)
        else:
            correct = numbers_equal(value, gold)
        return Verdict(correct, _fmt(value))

    @staticmethod
    def _strict_list(response: str, span: str | None, answer: str) -> Verdict:
        lists = _LIST.findall(span) if span else []
        if not lists and span is None:
            lists = _LIST.findall(response)
        items = check_span(lists[-1] if lists else span)
        if not items:
            return Verdict(False, None, ["no_answer"])
        gold = [to_number(x) for x in answer.strip("[]").split(",")]
        if None in gold:  # not a list of numbers: compare the texts without spaces and quotes
            normed = _SPACES.sub("", items).strip("[]").replace("'", "").lower()
            return Verdict(normed == _SPACES.sub("", answer).strip("[]").replace("'", "").lower(), f"[{items}]")
        predicted = [v for v in (to_number(x) for x in items.split(",")) if v is not None]
        if len(predicted) != items.count(",") + 1:
            return Verdict(False, None, ["no_answer"])
        correct = len(predicted) == len(gold) and all(numbers_equal(p, g) for p, g in zip(predicted, gold))
        return Verdict(correct, "[" + ", ".join(_fmt(p) for p in predicted) + "]")


def build_query(doc: dict[str, Any]) -> str:
    """The official zero-shot query (`data/query.json` format): `Hint: ...`, `Question: ... (Unit: u)`, choices."""
    precision = doc.get("precision")
    if doc.get("question_type") == "multi_choice":
        key = "multi_choice"
    elif doc.get("answer_type") == "float":
        key = f"float{int(precision) if precision is not None else 1}"
    else:
        key = str(doc.get("answer_type"))
    lines = [f"Hint: {HINTS[key]}"] if key in HINTS else []
    question = f"Question: {doc['question']}"
    if doc.get("unit"):
        question += f" (Unit: {doc['unit']})"
    lines.append(question)
    if doc.get("choices"):
        lines.append("Choices:")
        lines += [f"({LETTERS[i]}) {choice}" for i, choice in enumerate(doc["choices"])]
    return "\n".join(lines).strip()


__all__ = [
    "MathVistaScorer",
    "answer_span",
    "build_query",
    "last_line_letter",
    "option_letter",
    "quick_extract",
    "round_half_up",
    "strip_relation",
    "to_number",
]
