"""DynaMath (501 seed questions x 10 program-generated variants): average and worst-case accuracy.

Official (DynaMath's evaluation, as VLMEvalKit's `vlmeval/dataset/dynamath.py::DynaMath_auxeval` runs it): the
model answers in JSON with "solution" and "short answer"; `preprocess` keeps the text from the first "{" to the
last "}", removes backslashes and reads "short answer"; `parse_answer` turns it into a float ("xπ" → x·π, first
whitespace token), an upper-case letter (a single character, or the only one of A-E present) or a string. If that
fails the raw response is parsed the same way, and after that the official code asks an LLM to reformat: here the
row is flagged `needs_judge` instead. Correct: floats within 1e-3, letters equal (or the gold letter among the
first three characters), free form when the prediction is a substring of the gold (case-insensitive).
Worst-case accuracy: the share of seed questions (`qid`) whose every variant is answered correctly.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, ClassVar

from .base import Scorer, Verdict, accuracy_table
from .extract import choice_letter, clean_latex, final_answer_span, parse_number

GUIDE = (
    "\n## Answer Instruction Please provide an answer to the question outlined above. Your response should adhere "
    "to the following JSON format, which includes two keys: 'solution' and 'short answer'. The 'solution' key can "
    "contain detailed steps needed to solve the question, and the 'short answer' key should provide a concise "
    "response. {type_hint}\n\nExample of expected JSON response format:\n\n"
    '{{\n    "solution": "[Detailed step-by-step explanation]",\n    "short answer": "[Concise Answer]"\n}}'
)
_HINTS = {
    "multiple choice": "For the short answer, please provide only the letter of the correct option (A, B, C, D, E).",
    "float": "For the short answer, please provide a three-digit floating-point number.",
    "free form": "For the short answer, please provide a concise answer.",
}


def _gold(doc: dict[str, Any]) -> str:
    return str(doc.get("ground_truth", doc.get("answer", ""))).strip()


def _kind(doc: dict[str, Any]) -> str:
    return str(doc.get("answer_type", "free form")).lower().replace("_", " ")


def official_short_answer(response: str) -> str | None:
    """`preprocess`: the "short answer" of the JSON between the first "{" and the last "}" (backslashes removed)."""
    start, end = response.find("{"), response.rfind("}")
    if start < 0 or end < start:
        return None
    try:
        value = json.loads(response[start : end + 1].replace("\\", ""), strict=False)
    except json.JSONDecodeError:
        return None
    answer = value.get("short answer") if isinstance(value, dict) else None
    return None if answer is None else str(answer)


def official_parse(answer: str, kind: str) -> str | float | None:
    """`parse_answer`: a float, an upper-case letter or the string itself; `None` when it does not parse."""
    answer = answer.strip()
    if kind == "float":
        token = answer.split()[0] if answer.split() else ""
        try:
            if "π" in token:
                factor = token.replace("π", "")
                return float(factor or 1) * math.pi
            return float(token)
        except ValueError:
            return None
    if kind == "multiple choice":
        if len(answer) == 1:
            return answer.upper()
        letters = [c for c in "ABCDE" if c in answer]
        return letters[0] if len(letters) == 1 else None
    return answer


def official_correct(pred: str | float, gold: str, kind: str) -> bool:
    if kind == "float":
        gold_value = parse_number(gold)
        return isinstance(pred, float) and gold_value is not None and abs(pred - gold_value) <= 1e-3
    if kind == "multiple choice":
        return pred == gold or gold in str(pred)[:3].upper()
    return str(pred).lower() in gold.lower()


class DynaMathScorer(Scorer):
    """DynaMath scorer; `aggregate` adds worst-case accuracy over each seed question's variants."""

    name = "dynamath"
    breakdown: ClassVar[tuple[str, ...]] = ("subject", "knowledge_level")
    STRICT_CHANGES: ClassVar[tuple[str, ...]] = (
        "The answer is the JSON 'short answer' when present, else the final answer (`\\boxed{}`, 'Answer:'); a "
        "response with neither is a miss (`no_answer`) rather than a parse of the whole text or an LLM reformat.",
        "Multiple choice: one option letter, not 'the gold letter appears among the first three characters'.",
        "Free form: normalised equality, not 'the prediction is a substring of the gold' (so '2' no longer matches "
        "'12' and an empty answer no longer matches everything).",
        "Floats: numbers written with units, percent, thousands separators or as fractions are read (tolerance 1e-3 "
        "kept).",
    )

    def prompt(self, doc: dict[str, Any]) -> str:
        return f"## Question\n {doc['question']}" + GUIDE.format(type_hint=_HINTS.get(_kind(doc), _HINTS["free form"]))

    def score(self, response: str, doc: dict[str, Any], mode: str = "strict") -> Verdict:
        self.check_mode(mode)
        gold, kind = _gold(doc), _kind(doc)
        if mode == "official":
            short = official_short_answer(response)
            pred = official_parse(short, kind) if short is not None else None
            if pred is None:
                pred = official_parse(response, kind)
            if pred is None:
                return Verdict(False, None, ["needs_judge"])
            return Verdict(official_correct(pred, gold, kind), str(pred))
        span = official_short_answer(response) or final_answer_span(response)
        if span is None and len(response.strip()) <= 30:
            span = response.strip()
        if not span:
            return Verdict(False, None, ["no_answer"])
        if kind == "multiple choice":
            letter = choice_letter(span, 5)
            return Verdict(letter == gold.upper(), letter, [] if letter else ["no_answer"])
        if kind == "float":
            value, gold_value = pi_number(span), parse_number(gold)
            ok = value is not None and gold_value is not None and abs(value - gold_value) <= 1e-3
            return Verdict(ok, None if value is None else f"{value:g}")
        norm = _norm(span)
        return Verdict(norm == _norm(gold), norm)

    def aggregate(self, docs: Sequence[dict[str, Any]], verdicts: Sequence[Verdict]) -> dict[str, Any]:
        result = accuracy_table(docs, verdicts, self.breakdown)
        by_seed: dict[str, list[bool]] = defaultdict(list)
        for doc, verdict in zip(docs, verdicts):
            by_seed[str(doc.get("qid", doc.get("id")))].append(verdict.correct)
        result["average_accuracy"] = result["accuracy"]
        result["worst_case_accuracy"] = sum(all(v) for v in by_seed.values()) / len(by_seed) if by_seed else 0.0
        result["seed_questions"] = len(by_seed)
        return result


def pi_number(text: str) -> float | None:
    """A number, also written as a multiple of pi ("2π", "2\\pi", "π")."""
    if "π" not in text and "\\pi" not in text:
        return parse_number(text)
    factor = text.replace("π", "").replace("\\pi", "").strip()
    value = parse_number(factor) if factor else 1.0
    return None if value is None else value * math.pi


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", clean_latex(text)).strip().lower()


__all__ = ["DynaMathScorer", "official_correct", "official_parse", "official_short_answer"]
