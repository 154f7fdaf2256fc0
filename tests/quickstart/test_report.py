"""The quickstart's baselines, goals and report files, against hand-computed values."""

import json

import datasets
import pytest
from PIL import Image

from mmreason.quickstart import PRESETS, get_preset
from mmreason.quickstart.evaluate import baselines
from mmreason.quickstart.pairs import gold_answer
from mmreason.quickstart.report import goals, markdown, write_report


def _sft(source: str, group: str, answer: str) -> dict:
    text = f"Step one.\nStep two.\nFinal answer: {answer}"
    return {"source": source, "quality_group": group, "messages": [{"role": "assistant",
            "content": [{"type": "text", "text": text}]}]}  # fmt: skip


def test_gold_answer_is_the_text_after_the_last_final_answer():
    assert gold_answer("Count: 3.\nFinal answer: 3") == "3"
    assert gold_answer("Final answer: 2 is wrong\nFinal answer:  4:30 ") == "4:30"


def test_baselines_by_hand():
    train = datasets.Dataset.from_list(
        [_sft("procedural/count", "easy-vision", a) for a in ("3", "3", "3", "5")]
        + [_sft("procedural/clock", "easy-text", a) for a in ("B", "A")]
    )
    test = datasets.Dataset.from_list([
        {"family": "count", "level": "easy", "choices": [], "answer": "3"},
        {"family": "count", "level": "easy", "choices": [], "answer": "4"},
        {"family": "clock", "level": "easy", "choices": ["A", "B", "C", "D"], "answer": "A"},
    ])  # fmt: skip
    found = baselines(train, {"easy_vision": test})
    # chance: count has 2 distinct train answers (1/2 each), clock is 4-way multiple choice (1/4)
    assert found["chance"]["easy_vision"] == pytest.approx((0.5 + 0.5 + 0.25) / 3)
    # majority: count -> "3" (hit, miss); clock -> a tie between "B" and "A", Counter keeps the first seen, "B" (miss)
    assert found["majority"]["easy_vision"] == pytest.approx(1 / 3)


STAGES = {
    "sft": {"easy_vision": 0.92, "easy_text": 0.96, "hard_vision": 0.30, "hard_text": 0.50},
    "mpo": {"easy_vision": 0.90, "easy_text": 0.96, "hard_vision": 0.36, "hard_text": 0.56},
    "puma": {"easy_vision": 0.94, "easy_text": 0.96, "hard_vision": 0.46, "hard_text": 0.55},
}


def test_goals_by_hand():
    found = goals(STAGES)
    assert found["sft_easy"]["value"] == pytest.approx(0.94) and found["sft_easy"]["met"]
    assert found["mpo_hard_gain"]["value"] == pytest.approx(0.06) and found["mpo_hard_gain"]["met"]
    # gap before PUMA (the MPO model's) 0.20, after 0.09 <= 0.10: halved
    assert found["puma_hard_gap"]["before"] == pytest.approx(0.20)
    assert found["puma_hard_gap"]["value"] == pytest.approx(0.09) and found["puma_hard_gap"]["met"]
    worse = goals({**STAGES, "puma": {**STAGES["puma"], "hard_vision": 0.44}})  # gap 0.11 > 0.10
    assert not worse["puma_hard_gap"]["met"]
    assert set(goals({"sft": STAGES["sft"]})) == {"sft_easy"}


def _results() -> dict:
    chance = dict.fromkeys(STAGES["sft"], 0.2)
    return {
        "preset": PRESETS["tiny"].__dict__, "seed": 3, "stages": STAGES,
        "baselines": {"chance": chance, "majority": dict.fromkeys(STAGES["sft"], 0.25)},
        "curves": {"sft": {"loss": [(1, 3.0), (2, 2.0)]}, "mpo": {"loss": [(1, 1.0)]}},
        "models": {}, "seconds": {"total": 12.0, "sft": 5.0}, "load_average": [[1.0, 1.0, 1.0]],
    }  # fmt: skip


def test_markdown_table_rows_and_gap():
    text = markdown({**_results(), "goals": goals(STAGES)})
    assert "| sft | 92.0 | 96.0 | 30.0 | 50.0 | +20.0 |" in text
    assert "| chance | 20.0 | 20.0 | 20.0 | 20.0 | +0.0 |" in text
    assert "| mpo_hard_gain | +6.0 points | >= +5.0 points | True |" in text
    assert "| sft_easy | 94.0% | >= 90.0% | True |" in text
    assert "| puma_hard_gap | gap +20.0 -> +9.0 points | abs(gap) <= 10.0 points | True |" in text


def test_write_report_files_parse(tmp_path):
    paths = write_report(_results(), tmp_path)
    assert json.loads(paths["results.json"].read_text())["goals"]["sft_easy"]["met"] is True
    for name in ("accuracy.png", "losses.png"):
        with Image.open(paths[name]) as image:
            assert image.format == "PNG" and image.size[0] > 100


def test_preset_overrides():
    preset = get_preset("tiny").with_overrides(sft_steps=7, n_train=None)
    assert preset.sft_steps == 7 and preset.n_train == PRESETS["tiny"].n_train
    with pytest.raises(ValueError, match="unknown preset fields"):
        get_preset("tiny").with_overrides(steps=3)
    with pytest.raises(ValueError, match="unknown preset"):
        get_preset("huge")
