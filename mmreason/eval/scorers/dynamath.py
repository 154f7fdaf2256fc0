"""DynaMath (501 seed questions x 10 program-generated variants): average and worst-case accuracy.

Official: DynaMath's own evaluation script (`DynaMath/DynaMath` @ 598c3c3, `evaluation/gpt4o/gpt_4o_json_eval.py`;
the Claude/Gemini scripts grade alike). The model answers in JSON with "solution" and "short answer". Per reply:
`json.loads(reply)` on the reply as it is (strict JSON, no stripping to the braces; any failure, a `RecursionError`
included, makes the short answer the sentinel string "wait for check", which is then graded like any answer);
`answer = str(reply["short answer"])` (a missing key reads "None", a JSON number its `str`); then, inside one
`try` where any exception is a fail:

* `float`: unless `answer.isdigit()`, its first space-separated token is taken and "xπ" read as `float(x) * π`
  (so a bare "π" fails on `float("")`); correct iff `abs(float(answer) - float(gold)) <= 0.001`;
* `multiple choice`: a one-character answer must equal the gold letter; a longer one is correct when the gold
  letter occurs among its first three characters (case-sensitive);
* any other type (`text`, `int`, `single answer`): correct iff the gold is a substring of the answer
  (case-sensitive).

A reply that parses to JSON other than an object crashes the official script (`list.get`); here it is a fail
flagged `not_json_object`. Flags: `invalid_json` (graded through the sentinel, as the official script does).

VLMEvalKit's `DynaMath_auxeval`, which an earlier version of this module followed, is a different protocol: it
keeps the text from the first "{" to the last "}", removes backslashes and parses leniently; reads letters
case-insensitively or as the only one of A-E present; compares free form as `pred.lower() in gold.lower()` (the
reverse direction); and falls back to an LLM reformatter. Its numbers do not compare with DynaMath's tables.

Bounds (both modes): a reply longer than `base.MAX_RESPONSE_CHARS` (and in strict mode a stated answer longer than
`MAX_SPAN_CHARS`) is a miss flagged `over_bound`; JSON nested deeper than
`MAX_JSON_DEPTH` is not handed to `json.loads` (whose recursion limit is the interpreter's) and counts as JSON that
does not parse, flagged `json_too_deep` -- the official script reaches the same sentinel for nesting beyond about
990 levels and differs only for valid JSON nested 101-990 deep. Every step is linear in the reply's length.

Worst-case accuracy: the share of seed questions (`qid`) whose every variant is answered correctly.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Sequence
from itertools import accumulate
from typing import Any, ClassVar

from .base import MAX_RESPONSE_CHARS, OVER_BOUND, Scorer, Verdict, accuracy_table
from .dynamath_numbers import TOLERANCE, clean, norm_text, plain, strict_number, strict_text_equal
from .extract import choice_letter

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
#: the official script's short answer for a reply that is not JSON
SENTINEL = "wait for check"
#: JSON nested deeper than this is treated as JSON that does not parse (`json_too_deep`)
MAX_JSON_DEPTH = 100
#: a stated answer longer than this is a miss (`over_bound`) in strict mode
MAX_SPAN_CHARS = 1000

_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACES = re.compile(r"[{}]")
_NON_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_SHORT_KEY = re.compile(
    r"""["']short[ _]answer["']\s*:\s*(?:"([^"\\]*(?:\\.[^"\\]*)*)"|'([^'\\]*(?:\\.[^'\\]*)*)'|([^,}\n]*))""",
    re.IGNORECASE | re.DOTALL,
)
_MARKER = re.compile(
    r"\b(?:final answer|short answer|the answer|answer|correct option|correct choice)\b"
    r"\s*(?:is\b|should be\b|would be\b|[:=\uff1a])\s*",
    re.IGNORECASE,
)
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL | re.IGNORECASE)
_LEAD_LETTER = re.compile(r"\(?([A-E])\)?(?:\s*\(|\s+is\b|\s*[.:)]?\s*$)")


def _gold(doc: dict[str, Any]) -> str:
    return str(doc.get("ground_truth", doc.get("answer", "")))


def _kind(doc: dict[str, Any]) -> str:
    return str(doc.get("answer_type", "free form")).lower().replace("_", " ")


def _json_depth_ok(text: str) -> bool:
    """Whether `text`'s bracket nesting (outside JSON strings) stays within `MAX_JSON_DEPTH`; linear, C-speed."""
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return True
    brackets = _NON_BRACKET.sub("", _JSON_STRING.sub('""', text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0) <= MAX_JSON_DEPTH


def _loads(text: str, strict: bool = True, depth_checked: bool = False) -> tuple[Any, str | None]:
    """`json.loads(text)` within the depth bound: (value, None), or (None, the flag saying why not)."""
    if not depth_checked and not _json_depth_ok(text):
        return None, "json_too_deep"
    try:
        return json.loads(text, strict=strict), None
    except (ValueError, RecursionError):  # JSONDecodeError, the int-digits limit; recursion only as a safety net
        return None, "invalid_json"


def official_short_answer(response: str) -> tuple[str | None, list[str]]:
    """The official script's `str(json.loads(reply).get("short answer"))`, the sentinel "wait for check" when the
    reply is not JSON, `None` when it is JSON but not an object (the official script crashes); plus flags."""
    value, flag = _loads(response)
    if flag:
        return SENTINEL, [flag]
    if not isinstance(value, dict):
        return None, ["not_json_object"]
    return str(value.get("short answer")), []


def official_correct(answer: str, gold: str, answer_type: str) -> bool:
    """The official grading of one short answer (see the module docstring); never raises."""
    try:
        if answer_type == "float":
            if not answer.isdigit():
                token = answer.split(" ")[0]
                return abs(_transfer(token) - float(gold)) <= TOLERANCE
            return abs(float(answer) - float(gold)) <= TOLERANCE
        if answer_type == "multiple choice":
            return answer == gold if len(answer) == 1 else gold in answer[0:3]
        return gold in answer
    except (ValueError, OverflowError):
        return False


def _transfer(token: str) -> float:
    """The official `transfer`: "xπ" → float(x)·π (everything after the first π ignored), else float(token)."""
    if "π" in token:
        return float(token.split("π")[0]) * math.pi
    return float(token)


# ---------------------------------------------------------------------------------------------- strict mode


def strict_span(response: str) -> str | None:
    """The stated answer: the JSON "short answer" (parsed, or read from malformed JSON), else the last `\\boxed{}`,
    `<answer>` tag or "answer is/:" marker, else a reply of at most 30 characters itself; `None` when none."""
    text = plain(response)
    for candidate in _json_candidates(text) if _json_depth_ok(text) else ():
        value, _ = _loads(candidate, strict=False, depth_checked=True)
        answer = _find_short_answer(value)
        if answer is not None:
            return answer
    matches = list(_SHORT_KEY.finditer(text))
    if matches:
        double, single, bare = matches[-1].groups()
        raw = double if double is not None else single if single is not None else bare.strip().strip("\"'")
        value, _ = _loads(f'"{raw}"') if double is not None else (None, None)
        if isinstance(value, str) and not any(ord(char) < 32 for char in value):  # "\frac" is no form feed
            return value
        return raw.replace('\\"', '"')
    return _final_span(text)


def _json_candidates(text: str) -> list[str]:
    start, end = text.find("{"), text.rfind("}")
    fenced = [m.group(1) for m in _FENCE.finditer(text)][-1:] if "```" in text else []
    return [text.strip(), *fenced, *([text[start : end + 1]] if 0 <= start < end else [])]


def _find_short_answer(value: Any, depth: int = 0) -> str | None:
    """The "short answer" (or "answer") of a parsed object, also inside a one-element list or a nested object."""
    if isinstance(value, str) and depth == 0:  # the whole reply is one JSON string
        return value
    if isinstance(value, list) and len(value) == 1 and depth < 3:
        return _find_short_answer(value[0], depth + 1) if isinstance(value[0], (dict, list)) else _scalar(value[0])
    if not isinstance(value, dict):
        return None
    keys = {re.sub(r"[\s_]", "", str(k)).lower(): v for k, v in value.items()}
    for key in ("shortanswer", "finalanswer", "answer"):
        found = _scalar(keys[key]) if key in keys else None
        if found is None and key in keys and isinstance(keys[key], list) and len(keys[key]) == 1:
            found = _scalar(keys[key][0])
        if found is not None:
            return found
    for inner in value.values() if depth < 3 else ():
        found = _find_short_answer(inner, depth + 1) if isinstance(inner, (dict, list)) else None
        if found is not None:
            return found
    return None


def _scalar(value: Any) -> str | None:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value) if isinstance(value, (str, int, float)) else None


def _last_boxed(text: str) -> str | None:
    """The content of the last `\\boxed{...}`, braces matched, when it closes within `MAX_SPAN_CHARS`."""
    start = text.rfind("\\boxed")
    brace = text.find("{", start) if start >= 0 else -1
    if brace < 0:
        return None
    depth = 0
    for match in _BRACES.finditer(text, brace, brace + MAX_SPAN_CHARS + 2):
        depth += 1 if match.group() == "{" else -1
        if depth == 0:
            return text[brace + 1 : match.start()].strip()
    return None


def _final_span(text: str) -> str | None:
    boxed = _last_boxed(text)
    if boxed is not None:
        return boxed
    open_tag = text.lower().rfind("<answer>")
    if open_tag >= 0:
        close = text.lower().find("</answer>", open_tag)
        if close >= 0:
            return text[open_tag + 8 : close].strip()
    marker = None
    lower = text.lower()
    markers = _MARKER.finditer(text) if "answer" in lower or "option" in lower or "choice" in lower else ()
    for marker in markers:  # noqa: B007 - the last one is wanted
        pass
    if marker is not None:
        tail = text[marker.end() :].strip()
        line = tail.splitlines()[0].strip() if tail else ""
        return line.rstrip(".").strip() or None
    stripped = text.strip()
    return stripped if 0 < len(stripped) <= 30 else None


def _strict_correct(span: str, gold: str, kind: str) -> tuple[bool, str | None]:
    if kind == "multiple choice":
        text = clean(span)
        lead = _LEAD_LETTER.match(text)  # "B (the second graph)", "B is correct"
        letter = choice_letter(text, 5) or (lead.group(1) if lead else None)
        return letter == gold.strip().upper(), letter
    if kind == "float":
        value, gold_value = strict_number(span), strict_number(gold)
        ok = value is not None and gold_value is not None and abs(value - gold_value) <= TOLERANCE
        return ok, None if value is None else f"{value:g}"
    return strict_text_equal(span, gold), norm_text(span)


class DynaMathScorer(Scorer):
    """DynaMath scorer; `aggregate` adds worst-case accuracy over each seed question's variants."""

    name = "dynamath"
    breakdown: ClassVar[tuple[str, ...]] = ("subject", "knowledge_level")
    STRICT_CHANGES: ClassVar[tuple[str, ...]] = (
        "The answer is the JSON 'short answer' also when the JSON is wrapped in text or a code fence, uses single "
        "quotes, unescaped LaTeX backslashes or nests the object; else the final answer (`\\boxed{}`, `<answer>`, "
        "'answer is'); a reply with none is a miss (`no_answer`), never the sentinel 'wait for check' graded as "
        "an answer.",
        "Multiple choice: exactly one option letter ('b', '(B)', 'Option B', 'B (the second graph)', 'The correct "
        "option is B'), not 'the gold letter among the first three characters' (so 'Blah' and 'B or C' no longer "
        "match B).",
        "Free form (text/int/single answer): normalised equality (case, spaces, LaTeX, trailing dot), numbers and "
        "number tuples within 1e-3, not 'the gold is a substring of the answer' (so '7430' no longer matches "
        "'743' and 'Mayday' no longer matches 'May').",
        "Floats: U+2212 minus keeps its sign ('\u22129' is -9, never 9); 'π', '2π/3', '\\frac{2\\pi}{3}', '1/12', "
        "'3√3', '1.5 \u00d7 10^3', thousands separators, units ('cm^2', '°') and 'x = … ≈ …' are read (tolerance 1e-3 "
        "kept).",
    )

    def prompt(self, doc: dict[str, Any]) -> str:
        return f"## Question\n {doc['question']}" + GUIDE.format(type_hint=_HINTS.get(_kind(doc), _HINTS["free form"]))

    def score(self, response: str, doc: dict[str, Any], mode: str = "strict") -> Verdict:
        self.check_mode(mode)
        response = response if isinstance(response, str) else ""  # a failed generation's None
        if len(response) > MAX_RESPONSE_CHARS:
            return Verdict(False, None, [OVER_BOUND])
        gold = _gold(doc)
        if mode == "official":
            answer, flags = official_short_answer(response)
            if answer is None:
                return Verdict(False, None, flags)
            return Verdict(official_correct(answer, gold, str(doc.get("answer_type", ""))), answer, flags)
        span = strict_span(response)
        if not span or not span.strip():
            return Verdict(False, None, ["no_answer"])
        candidates = [span]
        inner = _final_span(span) if _MARKER.search(span) else None  # "The answer is B" as the short answer
        if inner and inner != span:
            candidates.append(inner)
        correct, extracted, flags = False, None, []
        for candidate in candidates:
            if len(candidate) > MAX_SPAN_CHARS:
                flags = [OVER_BOUND]
                continue
            correct, extracted = _strict_correct(candidate, gold, _kind(doc))
            flags = [] if extracted else ["no_answer"]
            if correct:
                break
        return Verdict(correct, extracted, flags)

    def aggregate(self, docs: Sequence[dict[str, Any]], verdicts: Sequence[Verdict]) -> dict[str, Any]:
        result = accuracy_table(docs, verdicts, self.breakdown)
        by_seed: dict[str, list[bool]] = defaultdict(list)
        for doc, verdict in zip(docs, verdicts):
            by_seed[str(doc.get("qid", doc.get("id")))].append(verdict.correct)
        result["average_accuracy"] = result["accuracy"]
        result["worst_case_accuracy"] = sum(all(v) for v in by_seed.values()) / len(by_seed) if by_seed else 0.0
        result["seed_questions"] = len(by_seed)
        return result


__all__ = [
    "DynaMathScorer",
    "official_correct",
    "official_short_answer",
    "strict_span",
]
