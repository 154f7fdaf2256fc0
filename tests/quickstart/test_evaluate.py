"""The quickstart's per-stage evaluation never scores a previous run's answers: run again into the same folder
with another model, the predictions are that model's (the eval runner alone would resume from the first run's,
its model name and generation settings being the same)."""

import json

from mmreason.data import procedural
from mmreason.quickstart.evaluate import evaluate
from mmreason.quickstart.model import build_model
from mmreason.quickstart.presets import get_preset


def _responses(folder):
    return [json.loads(line)["response"] for line in (folder / "procedural" / "predictions.jsonl").open()]


def test_a_second_run_into_the_same_folder_answers_with_the_new_model(tmp_path):
    data = procedural.save(tmp_path / "data", seed=0, n_train=4, n_test=2, families=["bars"])
    preset = get_preset("tiny").with_overrides(vocab_size=0)
    out = tmp_path / "eval"
    first = build_model(preset, seed=0)
    evaluate(*first, data, out, "sft", max_new_tokens=6)
    before = _responses(out)
    second = build_model(preset, seed=1)
    evaluate(*second, data, out, "sft", max_new_tokens=6)
    after = _responses(out)
    assert len(before) == len(after) == 8
    assert before != after
