"""Row keys, real splits and image columns of the benchmarks (issue #11 items 2 and 3)."""

import json

import pytest

from mmreason.eval.benchmarks import RowError, get_benchmark
from mmreason.eval.runner import read_predictions, run_eval

from .fixtures import WEMATH_ANSWERS, dynamath_truth, wemath_rows, write_dynamath, write_wemath


class ByQuestion:
    """Answers each question with `answer_of(question text)`; records which rows came with images."""

    def __init__(self, answer_of):
        self.answer_of, self.images = answer_of, []

    def settings(self):
        return {"backend": "by-question"}

    def generate(self, conversations):
        outputs = []
        for conversation in conversations:
            parts = conversation[0]["content"]
            self.images.append(sum(p["type"] == "image" for p in parts))
            outputs.append(self.answer_of(parts[-1]["text"]))
        return outputs


def _wemath_answer(text):
    key = next(k for k in WEMATH_ANSWERS if f"question {k}?" in text)
    return f"<Thought process>: <<...>> <Answer>: <<{WEMATH_ANSWERS[key]}>>"


def test_wemath_sub_problems_and_composite_keep_their_own_answers(tmp_path):
    """Sub-problems and the composite share `ID`: they used to share one (the last) response, and went without
    their `image_path` image."""
    data = write_wemath(tmp_path / "wemath")
    backend = ByQuestion(_wemath_answer)
    results = run_eval("wemath_testmini", backend, tmp_path / "out", data=str(data), progress=False)
    assert backend.images == [1, 1, 1]
    assert results["answered"] == 3 and results["metrics"]["strict"]["accuracy"] == 1.0
    # all subs right and the composite right: We-Math's complete mastery, counted by hand
    assert results["metrics"]["strict"]["four_dim_strict"]["counts"] == {"IK": 0, "IG": 0, "CM": 1, "RM": 0,
                                                                         "problems": 1}  # fmt: skip
    records = read_predictions(tmp_path / "out" / "wemath_testmini" / "predictions.jsonl")
    assert set(records) == {"2steps_1/2steps_1", "2steps_1/2steps_2", "2steps_1/2steps_multi"}


def test_dynamath_variants_are_ten_splits_keyed_by_variant(tmp_path):
    data = write_dynamath(tmp_path / "dynamath", seeds=2)

    def answer(text):  # "DynaMath seed S variant V: ..."
        seed, variant = (int(w.strip(":")) for w in text.split("seed ")[1].split()[:3:2])
        return json.dumps({"solution": "...", "short answer": dynamath_truth(seed, variant)})

    backend = ByQuestion(answer)
    results = run_eval("dynamath", backend, tmp_path / "out", data=str(data), progress=False)
    assert get_benchmark("dynamath").splits == tuple(f"sample_variant{k}" for k in range(1, 11))
    assert results["rows"] == 20 and results["answered"] == 20 and backend.images == [1] * 20
    for mode in ("strict", "official"):
        assert results["metrics"][mode]["average_accuracy"] == 1.0
        assert results["metrics"][mode]["worst_case_accuracy"] == 1.0
        assert results["metrics"][mode]["seed_questions"] == 2
    assert "1/sample_variant7" in read_predictions(tmp_path / "out" / "dynamath" / "predictions.jsonl")


def test_duplicate_keys_are_refused_naming_them(tmp_path):
    rows = wemath_rows()
    rows[1]["key"] = rows[0]["key"]
    data = write_wemath(tmp_path / "wemath", rows)
    with pytest.raises(ValueError, match=r"not unique.*2steps_1/2steps_1"):
        run_eval("wemath_testmini", ByQuestion(_wemath_answer), tmp_path / "out", data=str(data), progress=False)


def test_missing_declared_image_is_a_row_error_not_a_text_prompt(tmp_path):
    rows = wemath_rows()
    rows[2]["image_path"] = None
    data = write_wemath(tmp_path / "wemath", rows)
    backend = ByQuestion(_wemath_answer)
    results = run_eval("wemath_testmini", backend, tmp_path / "out", data=str(data), progress=False)
    assert backend.images == [1, 1] and results["answered"] == 2
    failure = results["failed"]["2steps_1/2steps_multi"]
    assert failure["stage"] == "image" and "image_path" in failure["error"]


def test_image_fields_per_benchmark():
    mmmu = get_benchmark("mmmu_val")
    row = {"question": "Compare <image 2> with <image 1>.", "options": "['<image 3>', 'b']", "image_1": "x",
           "image_2": "y", "image_3": None}  # fmt: skip
    assert mmmu.image_fields(row) == ["image_2", "image_1", "image_3"]
    with pytest.raises(RowError, match="image_3"):
        mmmu.images(row)
    mathverse = get_benchmark("mathverse_testmini")
    assert mathverse.image_fields({"problem_version": "Text Only", "image": None}) == []
    with pytest.raises(RowError, match="'image'"):
        mathverse.images({"problem_version": "Vision Only", "image": ""})
    assert get_benchmark("wemath_testmini").image_fields({}) == ["image_path"]
