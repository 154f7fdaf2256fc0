"""We-Math (`We-Math/We-Math` testmini): accuracy by step count and the four-dimensional metrics.

Official (`We-Math/We-Math` `evaluation/accuracy.py`, `evaluation/four_dimensional_metrics.py`): the answer is the
text after the last "Answer", stripped of `<`, `>`, `:`, `.`; its first character if that is one of A-H. A
multi-step problem (`ID` "2steps_7" / "3steps_12") has one-step sub-problems (`key` "2steps_1", "2steps_2", ...)
and the composite (`key` "2steps_multi"). Per problem, with "subs" the one-step sub-problems:
* IK (insufficient knowledge): some sub wrong, composite wrong;  IG (inadequate generalization): all subs right,
  composite wrong;
* CM (complete mastery): composite right and all subs right (We-Math "strict") or any sub right ("loose");
* RM (rote memorization): composite right and some sub wrong ("strict") or all subs wrong ("loose");
  RM rate = RM / (CM + RM); the other rates are over the number of multi-step problems;
* score = (N - 0.5·IG - RM - IK) / N, N the number of multi-step problems (525 in testmini; the official script
  hard-codes 525, here N is counted, which is the same on the full split).
We-Math's own "strict"/"loose" are reported under `four_dim_strict` / `four_dim_loose` in both of our modes.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, ClassVar

from .base import STRICT_READING, Scorer, Verdict, accuracy_table, bounded, check_span
from .extract import LETTERS, after_think, choice_letter, final_answer_span

PROMPT = (
    "Now, we require you to solve a multiple-choice math question. Please briefly describe your thought process "
    "and provide the final answer(option).\nQuestion: {question}\nOption: {option}\nRegarding the format, please "
    "answer following the template below, and be sure to include two <> symbols:\n"
    "<Thought process>: <<your thought process>> <Answer>: <<your option>>"
)
_STRIP = re.compile(r"[><:.]")
_TAG_OPEN = re.compile(r"<Answer>(?>\s*):?(?>\s*)<<")


def official_letter(response: str) -> str | None:
    """The official extraction: first character of the text after the last "Answer" (stripped), if in A-H."""
    tail = _STRIP.sub("", response.split("Answer")[-1].strip()).strip()
    return tail[0] if tail and tail[0] in "ABCDEFGH" else None


def tagged_answers(response: str) -> list[str]:
    """The `<<...>>` contents after `<Answer>:` tags, as `re.findall(r"<Answer>\\s*:?\\s*<<\\s*(.*?)\\s*>>", response,
    DOTALL)` finds them, in linear time (that regex rescans the rest from every unclosed tag)."""
    found: list[str] = []
    position = 0
    while (opening := _TAG_OPEN.search(response, position)) is not None:
        closing = response.find(">>", opening.end())
        if closing < 0:
            break
        found.append(response[opening.end() : closing].strip())
        position = closing + 2
    return found


def parse_options(option: str) -> list[str]:
    """ "A. 300;B. 400; E. No correct answer" → ["300", "400", "No correct answer"]."""
    parts = re.split(r";\s*(?=[A-H]\.)", option.strip())
    return [re.sub(r"^[A-H]\.\s*", "", part).strip() for part in parts if part.strip()]


def four_dimensional(docs: Sequence[dict[str, Any]], verdicts: Sequence[Verdict]) -> dict[str, Any]:
    """IK/IG/CM/RM counts, rates and scores, We-Math strict and loose; plus one/two/three-step accuracy."""
    problems: dict[str, dict[str, bool]] = defaultdict(dict)
    for doc, verdict in zip(docs, verdicts):
        problems[str(doc.get("ID"))][str(doc.get("key", "")).split("_")[-1]] = verdict.correct
    counts = dict.fromkeys(("IK", "IG", "CM_strict", "CM_loose", "RM_strict", "RM_loose"), 0)
    steps: dict[str, list[bool]] = defaultdict(list)
    complete = 0
    for problem_id, roles in problems.items():
        subs = [ok for role, ok in roles.items() if role != "multi"]
        steps["one_step"].extend(subs)
        if "multi" not in roles or not subs:
            continue
        complete += 1
        multi = roles["multi"]
        steps["two_step" if problem_id.startswith("2steps") else "three_step"].append(multi)
        if multi:
            counts["CM_strict"] += all(subs)
            counts["CM_loose"] += any(subs)
            counts["RM_strict"] += not all(subs)
            counts["RM_loose"] += not any(subs)
        else:
            counts["IG"] += all(subs)
            counts["IK"] += not all(subs)
    out: dict[str, Any] = {f"{k}_accuracy": sum(v) / len(v) for k, v in steps.items() if v}
    for variant in ("strict", "loose"):
        cm, rm = counts[f"CM_{variant}"], counts[f"RM_{variant}"]
        n = max(complete, 1)
        out[f"four_dim_{variant}"] = {
            "score": (complete - 0.5 * counts["IG"] - rm - counts["IK"]) / n if complete else 0.0,
            "IK": counts["IK"] / n, "IG": counts["IG"] / n, "CM": cm / n, "RM": rm / (cm + rm) if cm + rm else 0.0,
            "counts": {"IK": counts["IK"], "IG": counts["IG"], "CM": cm, "RM": rm, "problems": complete},
        }  # fmt: skip
    return out


class WeMathScorer(Scorer):
    """We-Math scorer; `aggregate` adds the step accuracies and the four-dimensional metrics."""

    name = "wemath"
    breakdown: ClassVar[tuple[str, ...]] = ("knowledge concept",)
    STRICT_CHANGES: ClassVar[tuple[str, ...]] = (
        "The letter comes from the final answer (`<Answer>: <<B>>`, 'Answer: B', `\\boxed{B}`) read as a whole, not "
        "from the first character after the last 'Answer' (so 'Answer: Because ...' is not B and 'Answer: (C)' is C).",
        "A letter must be one of the row's options; several letters or none are a miss (`no_answer`).",
        "An option's exact text counts as its letter.",
        STRICT_READING,
    )

    def prompt(self, doc: dict[str, Any]) -> str:
        return PROMPT.format(question=doc["question"], option=doc.get("option", ""))

    @bounded
    def score(self, response: str, doc: dict[str, Any], mode: str = "strict") -> Verdict:
        gold = str(doc["answer"]).strip()
        if mode == "official":
            letter = official_letter(response)
            return Verdict(letter == gold, letter, [] if letter else ["no_answer"])
        options = parse_options(str(doc.get("option", "")))
        response = after_think(response)
        tagged = tagged_answers(response)
        span = check_span(tagged[-1] if tagged else final_answer_span(response))
        if span is None and len(response.strip()) <= 30:
            span = response.strip()
        letter = choice_letter(span, len(options) or 8, options) if span else None
        letter = letter if letter and (not options or LETTERS.index(letter) < len(options)) else None
        return Verdict(letter == gold, letter, [] if letter else ["no_answer"])

    def aggregate(self, docs: Sequence[dict[str, Any]], verdicts: Sequence[Verdict]) -> dict[str, Any]:
        return {**accuracy_table(docs, verdicts, self.breakdown), **four_dimensional(docs, verdicts)}


__all__ = ["WeMathScorer", "four_dimensional", "official_letter", "parse_options", "tagged_answers"]
