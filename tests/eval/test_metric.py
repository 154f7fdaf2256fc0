"""The `evaluate` metric module: loaded by path, offline, wrapping the scorers."""

import json

import evaluate

from mmreason.eval import METRIC_PATH

from .fixtures import mathvista_rows


def test_evaluate_load_by_path_and_compute(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_EVALUATE_OFFLINE", "1")
    monkeypatch.setenv("HF_MODULES_CACHE", str(tmp_path / "modules"))
    metric = evaluate.load(METRIC_PATH, "mathvista_testmini")
    rows = [{k: v for k, v in row.items() if k != "decoded_image"} for row in mathvista_rows()]
    references = [json.dumps(row) for row in rows]
    predictions = ["Answer: 12", "The answer is (B).", "AB = 2.5", "I am not sure."]
    strict = metric.compute(predictions=predictions, references=references, mode="strict")
    assert strict["count"] == 4 and strict["accuracy"] == 0.75
    metric.add_batch(predictions=predictions[:2], references=references[:2])
    assert metric.compute(mode="strict")["accuracy"] == 1.0
