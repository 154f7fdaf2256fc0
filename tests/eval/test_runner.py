import json

import yaml

from mmreason.eval.generation import GenerationError
from mmreason.eval.runner import read_predictions, run_eval

from .fixtures import write_mathvista

ANSWERS = {
    "What is the value of x?": "Since 3x = 36, x = 12.\nAnswer: 12",
    "Which shape is red?": "The red one is the square, (B).",
    "What is the length of AB?": "AB = 2.5 cm",
    "How many bars exceed 40?": "Three bars exceed 40, so the answer is 4.",
}


class ScriptedBackend:
    """Answers from a script; `fail` questions error out once (like a server 500 after retries)."""

    def __init__(self, fail=()):
        self.fail, self.calls = set(fail), []

    def generate(self, conversations):
        outputs = []
        for conversation in conversations:
            text = conversation[0]["content"][-1]["text"]
            question = next(q for q in ANSWERS if q in text)
            assert conversation[0]["content"][0]["type"] == "image"
            self.calls.append(question)
            if question in self.fail:
                self.fail.discard(question)
                outputs.append(GenerationError("APIStatusError: 500"))
            else:
                outputs.append(ANSWERS[question])
        return outputs


def test_run_eval_resumes_and_reports(tmp_path):
    data = write_mathvista(tmp_path / "mathvista")
    backend = ScriptedBackend(fail={"What is the length of AB?"})
    results = run_eval("mathvista_testmini", backend, tmp_path / "out", data=str(data), model_name="tiny")
    out = tmp_path / "out" / "mathvista_testmini"
    assert results["answered"] == 3 and results["missing"] == 1
    assert len(read_predictions(out / "predictions.jsonl")) == 3
    assert any("error" in json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines())

    again = ScriptedBackend()
    results = run_eval("mathvista_testmini", again, tmp_path / "out", data=str(data), model_name="tiny")
    assert again.calls == ["What is the length of AB?"]  # only the failed row is generated again
    assert results["answered"] == 4 and results["missing"] == 0
    assert results["metrics"]["strict"]["count"] == 4
    scores = [json.loads(line) for line in (out / "scores.jsonl").read_text().splitlines()]
    assert {s["id"] for s in scores} == {"1", "2", "3", "4"} and {"strict", "official"} <= set(scores[0])
    assert (out / "results.png").read_bytes()[:4] == b"\x89PNG"
    assert "overall" in (out / "results.md").read_text()
    (entry,) = yaml.safe_load((out / ".eval_results" / "mathvista_testmini.yaml").read_text())
    assert entry["dataset"] == {"id": "AI4Math/MathVista", "task_id": "mathvista_testmini"}
    assert entry["value"] == round(100 * results["metrics"]["strict"]["accuracy"], 2)


def test_limit(tmp_path):
    data = write_mathvista(tmp_path / "mathvista")
    results = run_eval("mathvista_testmini", ScriptedBackend(), tmp_path / "out", data=str(data), limit=2)
    assert results["rows"] == 2
