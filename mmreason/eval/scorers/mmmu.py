"""MMMU and MMMU-Pro scorers: the official letter/open-answer parsers (quirks kept) and a strict alternative.

Ported from (read, not copied) `MMMU-Benchmark/MMMU`:
* `mmmu/utils/eval_utils.py`: `parse_multi_choice_response`, `parse_open_response` (`get_key_subresponses`,
  `extract_numbers`, `normalize_str`), `eval_multi_choice`, `eval_open`, `calculate_ins_level_acc`;
* `mmmu/utils/data_utils.py`: `DOMAIN_CAT2SUB_CAT`, `get_multi_choice_info`; `mmmu/main_eval_only.py` (subject
  grouping, instance-weighted discipline means);
* `mmmu-pro/evaluate.py` (the "Answer:" step and the `"{c} "`/`"{c}."` candidates), `mmmu-pro/prompts.yaml` and
  `mmmu-pro/infer/infer_*.py` (`construct_prompt`, image order);
* prompts and the subject regex as in lmms-eval `tasks/mmmu/utils.py` and `tasks/mmmu/mmmu_val.yaml`.
`MMMUProScorer` lives in `mmmu_pro.py` and is re-exported here (the registry names `mmmu:MMMUProScorer`).
"""

from __future__ import annotations

import ast
import math
import random
import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any, ClassVar

from .base import STRICT_READING, Scorer, Verdict, accuracy_table, bounded, check_span
from .extract import (
    LETTERS,
    after_think,
    choice_letter,
    clean_latex,
    final_answer_span,
    numbers_equal,
    parse_number,
)

#: official `DOMAIN_CAT2SUB_CAT`: the six disciplines and their 30 subjects
DISCIPLINES: dict[str, tuple[str, ...]] = {
    "Art and Design": ("Art", "Art_Theory", "Design", "Music"),
    "Business": ("Accounting", "Economics", "Finance", "Manage", "Marketing"),
    "Science": ("Biology", "Chemistry", "Geography", "Math", "Physics"),
    "Health and Medicine": ("Basic_Medical_Science", "Clinical_Medicine", "Diagnostics_and_Laboratory_Medicine",
                            "Pharmacy", "Public_Health"),
    "Humanities and Social Science": ("History", "Literature", "Sociology", "Psychology"),
    "Tech and Engineering": ("Agriculture", "Architecture_and_Engineering", "Computer_Science", "Electronics",
                             "Energy_and_Power", "Materials", "Mechanical_Engineering"),
}  # fmt: skip
SUBJECT_DISCIPLINE = {subject: name for name, subjects in DISCIPLINES.items() for subject in subjects}

MC_PROMPT = "Answer with the option's letter from the given choices directly."
OPEN_PROMPT = "Answer the question using a single word or phrase."

_IMAGE_TAG = re.compile(r"<image\s*(\d+)>")
_SUBJECT_ID = re.compile(r"^[^_]+_(.+?)_\d+$")
# official open-answer parsing
_OPEN_SPLIT = re.compile(r"\.\s(?=[A-Z])|\n")
_OPEN_INDICATORS = ("could be ", "so ", "is ", "thus ", "therefore ", "final ", "answer ", "result ")
_OPEN_TRIVIAL = frozenset(":,.!?;'")
# The official patterns (`-?\d+(?:\.\d+)?[eE][+-]?\d+`, `-?(?:\d+\.\d+|\.\d+|\d+\b)(?![eE][+-]?\d+)(?![,\d])`)
# plus `(?<!\d)`: a match never starts inside a run of digits where the official one can only fail the same way
# (it must reach the run's end), so `findall` finds the same numbers, but in linear instead of quadratic time.
_NUM_COMMAS = re.compile(r"-?\b\d{1,3}(?:,\d{3})+\b")
_NUM_SCIENTIFIC = re.compile(r"-?(?<!\d)\d+(?:\.\d+)?[eE][+-]?\d+")
_NUM_SIMPLE = re.compile(r"-?(?:(?<!\d)\d+\.\d+|\.\d+|(?<!\d)\d+\b)(?![eE][+-]?\d+)(?![,\d])")
# strict parsing
_STANDALONE = re.compile(r"(?<![A-Za-z0-9_'\u2019\\-])([A-Z])(?![A-Za-z0-9_'\u2019]|-[A-Za-z])")
_WORD_AFTER = re.compile(r"\s+(?!(?:is|was|because|since|as|would|should|seems|appears)\b)[a-z]")
_LEADING = re.compile(r"[*_\s]*+(?i:option|choice)?\s*\(?([A-Z])\)?(?![A-Za-z0-9_'\u2019]|-[A-Za-z])")
_LETTER_LIST = re.compile(r"\s*(?:(?:,|and\b|or\b|&|/)\s*\(?|\()(?:[B-HJ-Z]|[AI](?!\s+[a-z]))(?![A-Za-z])")
_OPTION_MARKER = re.compile(r"(?:correct|best|closest|corresponds to)\s+(?:answer )?(?:option|choice)(?: is)?:?", re.I)
_BARE_LETTER = re.compile(r"(?:(?:option|choice)\s*)?\(?([A-Z])\)?[.:)]?", re.IGNORECASE)
_LETTER_LINE = re.compile(r"\(?([A-Z])(?:\)|[.:])[ \t]+[^\n]+")
_PLAIN_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.(\d*))?|\.(\d+))\s*%?")
_OTHER_NUMBER = re.compile(
    r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)[eE][-+]?\d+|[-+]?\d+\s*/\s*\d+|[-+]?\\[dt]?frac\s*\{[^{}]+\}\s*\{[^{}]+\}"
)
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_UNIT_POWER = re.compile(r"(?<=[A-Za-z}])\s*\^\s*\{?[-+]?\d+\}?")  # "m^2", "s^{-1}" after a unit


@lru_cache(maxsize=8192)
def _literal_list(text: str) -> tuple[str, ...] | None:
    """`"['a', 'b']"` → `("a", "b")`; `None` when the text is not a list literal."""
    if not text.lstrip().startswith("["):
        return None
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return tuple(str(item) for item in value) if isinstance(value, list | tuple) else None


def parse_options(options: Any) -> tuple[str, ...]:
    """The row's options (a list-literal string on the Hub, or already a list)."""
    if isinstance(options, str):
        return _literal_list(options) or ()
    return tuple(str(option) for option in options or ())


def gold_answers(answer: Any) -> list[str]:
    """The acceptable answers: a list-literal string becomes its items (the official answer file stores lists)."""
    if isinstance(answer, list | tuple):
        return [str(item) for item in answer]
    items = _literal_list(answer) if isinstance(answer, str) else None
    return list(items) if items else [str(answer)]


def subject_of(doc: dict[str, Any]) -> str:
    """The subject: from the id (`validation_Art_Theory_12` → `Art_Theory`), else the `subject` field."""
    match = _SUBJECT_ID.match(str(doc.get("id", "")))
    if match:
        return match.group(1)
    return str(doc.get("subject") or "unknown").replace(" ", "_")


def official_choice(
    response: str, options: Sequence[str], rng: random.Random, pro: bool = False
) -> tuple[str | None, bool]:
    """Official `parse_multi_choice_response` → `(letter, guessed)`; `pro=True` adds MMMU-Pro's "Answer:" step
    and its `"{c} "`/`"{c}."` candidates (so the pronoun "I" and words ending in a capital letter count)."""
    choices = LETTERS[: len(options)]
    if not choices:
        return None, False
    if pro:
        position = response.rfind("Answer:")
        if position != -1:
            tail = response[position + len("Answer:") :].strip()
            found = [c for c in choices if c in tail]
            if len(found) == 1:
                return found[0], False
    for char in ",.!?;:'":  # one character after the other, as the official loop does
        response = response.strip(char)
    response = f" {response} "
    candidates = [c for c in choices if f"({c})" in response]
    bracketed, by_letter = bool(candidates), True
    if not candidates:
        for marker in ("{} ", "{}.") if pro else (" {} ",):
            candidates = [c for c in choices if marker.format(c) in response]
            if candidates:
                break
    lower = response.lower()
    if not candidates and len(response.split()) > 5:
        candidates = [c for c, option in zip(choices, options) if option.lower() in lower]
        by_letter = False
    if not candidates:
        return rng.choice(choices), True
    if len(candidates) == 1:
        return candidates[0], False
    if not by_letter:
        positions = [lower.rfind(options[LETTERS.index(c)].lower()) for c in candidates]
    else:  # MMMU-Pro finds `"{c} "` candidates but still ranks them by `" {c} "` (-1 when absent)
        marker = "({})" if bracketed else " {} "
        positions = [response.rfind(marker.format(c)) for c in candidates]
    return candidates[max(range(len(candidates)), key=positions.__getitem__)], False  # first maximum, as argmax


def normalize_official(text: str) -> list[str | float]:
    """Official `normalize_str`: numbers → float rounded to 2 decimals; text → lower case, 1 character → padded."""
    text = text.strip()
    try:
        return [round(float(text.replace(",", "")), 2)]
    except ValueError:
        text = text.lower()
        return [f" {text}", f"{text} "] if len(text) == 1 else [text]


def extract_numbers(text: str) -> list[str]:
    """Official `extract_numbers`: comma-grouped, scientific, then plain numbers."""
    return _NUM_COMMAS.findall(text) + _NUM_SCIENTIFIC.findall(text) + _NUM_SIMPLE.findall(text)


def _key_subresponses(response: str) -> list[str]:
    """Official `get_key_subresponses`: per line, the shortest tail after an indicator word (or "=" last)."""
    response = response.strip().strip(".").lower()
    pieces = _OPEN_SPLIT.split(response)
    keys: list[str] = []
    for index, piece in enumerate(pieces):
        indicators = (*_OPEN_INDICATORS, "=") if index == len(pieces) - 1 else _OPEN_INDICATORS
        shortest: str | None = None
        for indicator in indicators:
            if indicator in piece:
                tail = piece.rpartition(indicator)[2].strip()
                if not shortest or len(tail) < len(shortest):
                    shortest = tail
        if shortest and shortest.strip() not in _OPEN_TRIVIAL:
            keys.append(shortest)
    return keys or [response]


def official_open(response: str) -> list[str | float]:
    """Official `parse_open_response`: key sub-responses plus the numbers in them, normalised, deduplicated."""
    keys = _key_subresponses(response)
    raw = dict.fromkeys(keys + [number for key in keys for number in extract_numbers(key)])  # normalise each once
    return list(dict.fromkeys(value for item in raw for value in normalize_official(item)))


def official_open_correct(golds: Sequence[str], preds: Sequence[str | float]) -> bool:
    """Official `eval_open`: a text gold must be a substring of a text prediction; a float must be equal."""
    normalized = [value for gold in golds for value in normalize_official(gold)]
    texts = [value for value in normalized if isinstance(value, str)]
    for pred in preds:
        if isinstance(pred, str):
            if any(text in pred for text in texts):
                return True
        elif pred in normalized:
            return True
    return False


def strict_choice(response: str, options: Sequence[str]) -> str | None:
    """The letter of the final answer (read after the last `</think>`): a response that is itself a letter
    (`B`, `(B)`, `Option B.`), a `B. text` line or an option's text; else the first of `_final_spans` that
    `span_letter` reads a letter from. Never guesses; raises `BoundExceeded` on a final answer over the bounds."""
    count, options, response = len(options), list(options), after_think(response)
    text = clean_latex(response).strip("*").strip()
    match = _BARE_LETTER.fullmatch(text) or ("\n" not in text and _LETTER_LINE.fullmatch(text))
    if match:
        return match.group(1).upper() if match.group(1).upper() in LETTERS[:count] else None
    if text and "\n" not in text and len(text) < 400:
        hits = [LETTERS[i] for i, option in enumerate(_norm_options(tuple(options))) if option == _norm_text(text)]
        if len(hits) == 1:
            return hits[0]
    for span in _final_spans(response):
        letter = span_letter(clean_latex(span), count, options) if check_span(span) else None
        if letter is not None:
            return letter
    return None


def _final_spans(response: str) -> Iterator[str | None]:
    """`final_answer_span`, the line after the last "correct/best/closest option is", and the last marker when
    a `\\boxed{4.5 kip}` hides a later "Answer: H" (`final_answer_span` prefers any `\\boxed{}`), lazily."""
    yield final_answer_span(response)
    markers = list(_OPTION_MARKER.finditer(response))
    tail = response[markers[-1].end() :].strip() if markers else ""
    yield tail.splitlines()[0] if tail else None
    yield final_answer_span(response.replace("\\boxed", "")) if "\\boxed" in response else None


def span_letter(span: str, count: int, options: list[str]) -> str | None:
    """The letter a final-answer span names: the letter it starts with (`B`, `(B)`, `B. text`, `Option B`,
    `B (Reduce A)`; not "B and C"), else `choice_letter` (option text...), else the only letter standing alone;
    the article "A" and the pronoun "I" before a word never count."""
    lead = _LEADING.match(span)
    if lead and lead.group(1) in LETTERS[:count]:
        if _LETTER_LIST.match(span, lead.end()):
            return None
        if not (lead.group(1) in "AI" and _WORD_AFTER.match(span, lead.end())):
            return lead.group(1)
    letter = choice_letter(span, count, options)
    if letter is not None:
        return letter
    found = {
        m.group(1)
        for m in _STANDALONE.finditer(span)
        if m.group(1) in LETTERS[:count] and not (m.group(1) in "AI" and _WORD_AFTER.match(span, m.end()))
    }
    return found.pop() if len(found) == 1 else None


def _norm_text(text: str) -> str:
    return " ".join(clean_latex(text).lower().strip().strip("*\"'`").strip(" .,;:!").split())


@lru_cache(maxsize=4096)
def _norm_options(options: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(_norm_text(option) for option in options)


def _numeric_gold(text: str) -> tuple[bool, int | None]:
    """`(is a number, decimals written)`; decimals are `None` for fractions and scientific notation."""
    text = _THOUSANDS.sub("", clean_latex(text))
    match = _PLAIN_NUMBER.fullmatch(text)
    if match:
        return True, len(match.group(1) or match.group(2) or "")
    return bool(_OTHER_NUMBER.fullmatch(text)), None


def numbers_match(pred: float, gold: float, decimals: int | None) -> bool:
    """Exact for integer golds; otherwise within half a unit of the gold rounded to `min(decimals written,
    max(2, 3 significant figures))` decimals (so 6.33 matches 6.333 but 0.0034 never matches 0.0012)."""
    if numbers_equal(pred, gold):
        return True
    if decimals == 0:
        return False
    places = max(2, 2 - math.floor(math.log10(abs(gold)))) if gold else 2
    places = places if decimals is None else min(decimals, places)
    return abs(pred - gold) <= 0.5 * 10.0**-places * (1 + 1e-9)


def strict_open(span: str, golds: Sequence[str]) -> bool:
    """Numbers by value (thousands separators, percent, fractions, units, `m^2`), text by normalised equality."""
    pred_text, pred_number = _norm_text(span), parse_number(_UNIT_POWER.sub("", span))
    for gold in golds:
        numeric, decimals = _numeric_gold(gold)
        if numeric:
            value = parse_number(gold)
            if value is not None and pred_number is not None and numbers_match(pred_number, value, decimals):
                return True
        elif pred_text and pred_text == _norm_text(gold):
            return True
    return False


class MMMUScorer(Scorer):
    """MMMU (validation): multiple-choice letters and open answers; subject and discipline accuracy."""

    name = "mmmu"
    #: official parser flavour: MMMU-Pro's `evaluate.py` ("Answer:" step, `"{c} "`/`"{c}."` candidates)
    pro_parser: ClassVar[bool] = False
    breakdown: ClassVar[tuple[str, ...]] = ("discipline", "subject")
    STRICT_CHANGES: ClassVar[tuple[str, ...]] = (
        "Multiple choice: a response that is itself a letter, a 'B. text' line or an option's exact text, else the "
        "letter of the final-answer span (last \\boxed{}, 'Answer:'-style marker, <answer> tag, or the line after "
        "'the correct/best/closest option is'); anything else is no answer.",
        "Never a random letter: an unparseable response is wrong and flagged 'no_answer' (official: "
        "random.choice, flagged 'random_guess').",
        "The article 'A' ('The answer is A cat') and the pronoun 'I' are not letters; several different letters "
        "in the final answer ('B and C') are no answer, not the last one mentioned; letters inside words never "
        "count; option text is matched exactly (normalised), not as a substring of a >5-word response.",
        "Open questions: only the final answer (or a one-line response) is compared, not every 'is/so/=' tail; "
        "numbers by value with thousands separators, percent, fractions and units handled (integer golds exact, "
        "decimal golds at their written precision capped at max(2 decimals, 3 significant figures)); text by "
        "normalised equality, LaTeX dollars dropped (official: substring, so gold 'cat' matches 'concatenation', "
        "'0' matches '7,243,000' via its '000' group, and 0.0034 matches 0.0012 after rounding to 2 decimals).",
        STRICT_READING,
    )

    def __init__(self, seed: int = 42) -> None:
        self._rng = random.Random(seed)  # the official parser seeds the global RNG with 42 at import

    def is_multiple_choice(self, doc: dict[str, Any]) -> bool:
        kind = doc.get("question_type")
        return kind == "multiple-choice" if kind else bool(parse_options(doc.get("options")))

    @bounded
    def score(self, response: str, doc: dict[str, Any], mode: str = "strict") -> Verdict:
        golds = gold_answers(doc.get("answer"))
        if self.is_multiple_choice(doc):
            options = parse_options(doc.get("options"))
            if mode == "official":
                letter, guessed = official_choice(response, options, self._rng, pro=self.pro_parser)
                return Verdict(letter in golds, letter, ["random_guess"] if guessed else [])
            letter = strict_choice(response, options)
            return Verdict(letter is not None and letter in golds, letter, [] if letter else ["no_answer"])
        if mode == "official":
            preds = official_open(response)
            return Verdict(official_open_correct(golds, preds), repr(preds))
        text = after_think(response).strip()
        span = check_span(final_answer_span(text) or (text if text and "\n" not in text else None))
        if span is None:
            return Verdict(False, None, ["no_answer"])
        return Verdict(strict_open(span, golds), span)

    def prompt(self, doc: dict[str, Any]) -> str:
        """lmms-eval's default `mmmu_val` prompt: question, `A. option` lines, then the instruction."""
        if not self.is_multiple_choice(doc):
            return f"{doc['question']}\n\n{OPEN_PROMPT}"
        return f"{doc['question']}\n{format_options(parse_options(doc['options']))}\n\n{MC_PROMPT}"

    def images(self, doc: dict[str, Any]) -> list[Any]:
        """`image_k` for each `<image k>` in the question and options, in order of first appearance."""
        if "question" not in doc:
            return super().images(doc)
        numbers = dict.fromkeys(_IMAGE_TAG.findall(f"{doc['question']} {doc.get('options') or ''}"))
        return [doc[f"image_{k}"] for k in numbers if doc.get(f"image_{k}") is not None]

    def aggregate(self, docs: Sequence[dict[str, Any]], verdicts: Sequence[Verdict]) -> dict[str, Any]:
        """Overall accuracy and flags, per-subject accuracy, and per-discipline accuracy weighted by instances
        (the official `calculate_ins_level_acc`; only disciplines with rows are listed)."""
        result = accuracy_table(docs, verdicts, ())
        subjects = [subject_of(doc) for doc in docs]
        disciplines = _group([SUBJECT_DISCIPLINE.get(s, "Other") for s in subjects], verdicts)
        result["discipline"] = {k: disciplines[k] for k in [*DISCIPLINES, "Other"] if k in disciplines}
        result["subject"] = dict(sorted(_group(subjects, verdicts).items()))
        return result


def format_options(options: Sequence[str]) -> str:
    """`A. first\\nB. second...` (the official `parse_options`)."""
    return "\n".join(f"{LETTERS[i]}. {option}" for i, option in enumerate(options))


def _group(keys: Sequence[str], verdicts: Sequence[Verdict]) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[bool]] = defaultdict(list)
    for key, verdict in zip(keys, verdicts):
        groups[key].append(verdict.correct)
    return {k: {"accuracy": sum(v) / len(v), "count": len(v)} for k, v in groups.items()}


def __getattr__(name: str) -> Any:
    """`MMMUProScorer` from `mmmu_pro` on first use (the registry names `mmmu:MMMUProScorer`; no import cycle)."""
    if name == "MMMUProScorer":
        from .mmmu_pro import MMMUProScorer

        return MMMUProScorer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DISCIPLINES", "MMMUScorer", "extract_numbers", "gold_answers", "normalize_official", "official_choice",
    "official_open", "official_open_correct", "parse_options", "span_letter", "strict_choice", "strict_open",
    "subject_of",
]  # fmt: skip
