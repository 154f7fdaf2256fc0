"""The judge prompts are the official ones: mmreason's builders against prompts the official code built
(tests/eval/judge/fixtures/official_prompts.json, see its README)."""

import json
from pathlib import Path

import pytest

from mmreason.eval.judge import PROMPT_VERSIONS, SOURCES, prompts
from mmreason.eval.scorers.mathverse import truncate_response

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "official_prompts.json").read_text())


@pytest.mark.parametrize("case", FIXTURE["mathvista_extract"])
def test_mathvista_extraction_prompt_is_official(case):
    assert prompts.mathvista_extract(case["query"], case["response"]) == case["prompt"]


@pytest.mark.parametrize("case", FIXTURE["mathverse_extract"])
def test_mathverse_extraction_prompt_is_official(case):
    truncated = truncate_response(case["response"], case["trunk_response"])
    assert prompts.mathverse_extract(truncated) == case["prompt"]


@pytest.mark.parametrize("case", FIXTURE["mathverse_score"])
def test_mathverse_judgement_prompt_is_official(case):
    assert prompts.mathverse_score(case["question"], case["answer"], case["extraction"]) == case["prompt"]


@pytest.mark.parametrize("case", FIXTURE["dynamath_reformat"])
def test_dynamath_reformat_prompt_is_official(case):
    assert prompts.dynamath_reformat(case["response"], case["answer_type"]) == case["prompt"]


def test_every_prompt_has_a_version_and_a_source():
    assert set(PROMPT_VERSIONS) == set(SOURCES) == {
        "mathvista_extract", "mathverse_extract", "mathverse_score", "dynamath_reformat",
    }  # fmt: skip
    assert all(len(v) == 12 for v in PROMPT_VERSIONS.values())
    assert all("@" in s and len(s.split("@")[1].split(":")[0]) == 40 for s in SOURCES.values())
