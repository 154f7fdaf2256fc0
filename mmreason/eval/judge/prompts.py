"""The official judge prompts as the official scripts assemble them, and their versions (hashes of the text).

Each builder reproduces the official script's prompt assembly (see `official_text` for the repositories):

* [`mathvista_extract`]: MathVista `extract_answer.py::create_test_prompt(demo_prompt, query, response)`.
* [`mathverse_extract`]: MathVerse `extract_answer_s1.py::create_test_prompt` (after `trunk_response`).
* [`mathverse_score`]: MathVerse `score_answer_s2.py::create_test_prompt` (`demo_prompt_score.format(...)`).
* [`dynamath_reformat`]: VLMEvalKit `DynaMath_auxeval`'s `"Free-form answer: {pred}\\nInstruction: {inst}"`, on
  the prediction after its `preprocess` (text between the first "{" and the last "}", backslashes removed).
"""

from __future__ import annotations

import hashlib

from .official_text import (
    DYNAMATH_INSTRUCTIONS,
    MATHVERSE_EXTRACT_PROMPT,
    MATHVERSE_SCORE_PROMPT,
    MATHVISTA_DEMO_PROMPT,
)

#: where each prompt's text comes from (`repo@commit:path`)
SOURCES = {
    "mathvista_extract": "lupantech/MathVista@53d525874bdde205128e6b160b7357a88277d479:evaluation/prompts/ext_ans.py",
    "mathverse_extract": "ZrrSkywalker/MathVerse@937b090597aeafb8e82b35d310a4bc5b9e2ea29d:evaluation/prompts.py",
    "mathverse_score": "ZrrSkywalker/MathVerse@937b090597aeafb8e82b35d310a4bc5b9e2ea29d:evaluation/prompts.py",
    "dynamath_reformat": (
        "open-compass/VLMEvalKit@e8e78f05f3080fe28154f2130321f17951c3be94:vlmeval/dataset/dynamath.py"
    ),
}


def _version(*texts: str) -> str:
    return hashlib.sha256("\x00".join(texts).encode()).hexdigest()[:12]


#: prompt name -> a short hash of its template text (recorded with every verdict and in the cache key)
PROMPT_VERSIONS = {
    "mathvista_extract": _version(MATHVISTA_DEMO_PROMPT),
    "mathverse_extract": _version(MATHVERSE_EXTRACT_PROMPT),
    "mathverse_score": _version(MATHVERSE_SCORE_PROMPT),
    "dynamath_reformat": _version(*DYNAMATH_INSTRUCTIONS.values()),
}


def mathvista_extract(query: str, response: str) -> str:
    """MathVista's extraction prompt: the 5-example `demo_prompt`, the row's query, the response."""
    return f"{MATHVISTA_DEMO_PROMPT.strip()}\n\n{query}\n\n{response}\n\nExtracted answer: "


def mathverse_extract(response: str) -> str:
    """MathVerse's stage-1 extraction prompt for an (already truncated) response."""
    return f"{MATHVERSE_EXTRACT_PROMPT.strip()}\n\nModel response: '{response}'\nExtracted Answer: "


def mathverse_score(question: str, answer: str, extraction: str) -> str:
    """MathVerse's stage-2 judgement prompt (question, standard answer, extracted answer)."""
    return MATHVERSE_SCORE_PROMPT.strip().format(question=question, gt=answer, extraction=extraction)


def dynamath_preprocess(prediction: str) -> str:
    """VLMEvalKit's DynaMath `preprocess`: the text from the first "{" to the last "}" (when both exist, in that
    order), backslashes removed."""
    start, end = prediction.find("{"), prediction.rfind("}")
    if 0 <= start < end:
        prediction = prediction[start : end + 1]
    return prediction.replace("\\", "")  # (the official `.replace("\\n", "\n")` after this finds nothing left)


def dynamath_reformat(prediction: str, answer_type: str) -> str:
    """The reformat prompt asking for the short answer of a reply that is not the requested JSON."""
    instruction = DYNAMATH_INSTRUCTIONS.get(answer_type, DYNAMATH_INSTRUCTIONS["other"])
    return f"Free-form answer: {dynamath_preprocess(prediction)}\nInstruction: {instruction}"


__all__ = [
    "PROMPT_VERSIONS",
    "SOURCES",
    "dynamath_preprocess",
    "dynamath_reformat",
    "mathverse_extract",
    "mathverse_score",
    "mathvista_extract",
]
