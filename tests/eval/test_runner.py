import json

import pytest
import yaml

from mmreason.eval.runner import RunMismatchError, read_predictions, run_eval
from mmreason.generation import GenerationError

from .fixtures import write_mathvista

ANSWERS = {
    "What is the value of x?": "Since 3x = 36, x = 12.\nAnswer: 12",
    "Which shape is red?": "The red one is the square, (B).",
    "What is the length of AB?": "AB = 2.5 cm",
    "How many bars exceed 40?": "Three bars exceed 40, so the answer is 4.",
}


class ScriptedBackend:
    """Answers from a script; `fail` questions error out once (like a server 500 after retries), `crash`
    questions raise (like a processor's placeholder mismatch) whenever they are in the batch."""

    def __init__(self, fail=(), crash=(), name="scripted", answers=ANSWERS):
        self.fail, self.crash, self.name, self.answers, self.calls = set(fail), set(crash), name, answers, []

    def settings(self):
        return {"backend": self.name}

    def generate(self, conversations):
        outputs = []
        for conversation in conversations:
            text = conversation[0]["content"][-1]["text"]
            question = next(q for q in self.answers if q in text)
            if question in self.crash:
                raise ValueError("Number of image tokens does not match the number of images")
        for conversation in conversations:
            text = conversation[0]["content"][-1]["text"]
            question = next(q for q in self.answers if q in text)
            assert conversation[0]["content"][0]["type"] == "image"
            self.calls.append(question)
            if question in self.fail:
                self.fail.discard(question)
                outputs.append(GenerationError("APIStatusError: 500"))
            else:
                outputs.append(self.answers[question])
        return outputs


def _run(tmp_path, backend, **kwargs):
    data = write_mathvista(tmp_path / "mathvista")
    return run_eval("mathvista_testmini", backend, tmp_path / "out", data=str(data), model_name="tiny",
                    progress=False, **kwargs)  # fmt: skip


def test_run_eval_resumes_and_reports(tmp_path):
    results = _run(tmp_path, ScriptedBackend(fail={"What is the length of AB?"}))
    out = tmp_path / "out" / "mathvista_testmini"
    assert results["answered"] == 3 and results["missing"] == 1
    records = read_predictions(out / "predictions.jsonl")
    assert sum("response" in r for r in records.values()) == 3 and records["3"]["error"] == "APIStatusError: 500"

    again = ScriptedBackend()
    results = _run(tmp_path, again)
    assert again.calls == ["What is the length of AB?"]  # only the failed row is generated again
    assert results["answered"] == 4 and results["missing"] == 0
    assert results["metrics"]["strict"]["count"] == 4
    scores = [json.loads(line) for line in (out / "scores.jsonl").read_text().splitlines()]
    assert {s["id"] for s in scores} == {"1", "2", "3", "4"} and {"strict", "official"} <= set(scores[0])
    assert (out / "results.png").read_bytes()[:4] == b"\x89PNG"
    assert "overall" in (out / "results.md").read_text()


def test_limit(tmp_path):
    results = _run(tmp_path, ScriptedBackend(), limit=2)
    assert results["rows"] == 2


def test_other_model_or_settings_refuse_the_folder(tmp_path):
    """Item 4: a second model into the same folder used to reuse the first one's predictions ("0 rows")."""
    _run(tmp_path, ScriptedBackend(name="model-a"))
    other = ScriptedBackend(name="model-b")
    with pytest.raises(RunMismatchError, match="model-b"):
        _run(tmp_path, other)
    assert other.calls == []
    results = _run(tmp_path, other, on_mismatch="new_folder")
    assert len(other.calls) == 4 and results["answered"] == 4  # every row generated afresh, elsewhere
    folders = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert folders[0] == "mathvista_testmini" and folders[1].startswith("mathvista_testmini-")
    # the same backend resumes its own folder without generating anything
    same = ScriptedBackend(name="model-a")
    _run(tmp_path, same)
    assert same.calls == []


def test_folder_without_run_facts_is_refused(tmp_path):
    out = tmp_path / "out" / "mathvista_testmini"
    out.mkdir(parents=True)
    (out / "predictions.jsonl").write_text(json.dumps({"id": "1", "response": "Answer: 12"}) + "\n")
    with pytest.raises(RunMismatchError, match="unknown model"):
        _run(tmp_path, ScriptedBackend())


def test_changed_prompt_is_refused(tmp_path):
    import datasets

    from .fixtures import mathvista_rows

    _run(tmp_path, ScriptedBackend())
    rows = mathvista_rows()
    rows[0]["query"] += " Be brief."
    data = tmp_path / "mathvista"
    datasets.Dataset.from_list(rows).cast_column("decoded_image", datasets.Image()).to_parquet(
        str(data / "data" / "testmini-00000-of-00001.parquet")
    )
    with pytest.raises(RunMismatchError, match="another prompt"):
        run_eval("mathvista_testmini", ScriptedBackend(), tmp_path / "out", data=str(data), model_name="tiny",
                 progress=False)  # fmt: skip


def test_truncated_last_line_is_regenerated(tmp_path):
    """Item 7: a crash while writing the last record used to break every later resume (JSONDecodeError)."""
    _run(tmp_path, ScriptedBackend())
    path = tmp_path / "out" / "mathvista_testmini" / "predictions.jsonl"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 15])  # the last record cut mid-way, no newline
    again = ScriptedBackend()
    results = _run(tmp_path, again)
    assert again.calls == ["How many bars exceed 40?"] and results["answered"] == 4
    assert all(json.loads(line) for line in path.read_text().splitlines())


def test_a_raising_row_fails_alone_and_is_never_scored(tmp_path):
    """Item 7: any non-GenerationError exception used to abort the run, and again on every resume."""
    crash = "Which shape is red?"
    results = _run(tmp_path, ScriptedBackend(crash={crash}))
    assert results["answered"] == 3 and results["metrics"]["strict"]["count"] == 3
    assert results["failed"]["2"]["stage"] == "generate" and "image tokens" in results["failed"]["2"]["error"]
    out = tmp_path / "out" / "mathvista_testmini"
    assert "2" not in {json.loads(line)["id"] for line in (out / "scores.jsonl").read_text().splitlines()}
    assert "image tokens" in (out / "results.md").read_text()
    again = ScriptedBackend()
    results = _run(tmp_path, again)
    assert again.calls == [crash] and results["answered"] == 4 and not results["failed"]


def test_unreadable_image_is_a_row_failure(tmp_path):
    import datasets

    from .fixtures import mathvista_rows

    data = tmp_path / "mathvista"
    (data / "data").mkdir(parents=True)
    dataset = datasets.Dataset.from_list(mathvista_rows()).cast_column("decoded_image", datasets.Image(decode=False))
    broken = dataset.map(
        lambda row, i: {"decoded_image": None if i == 0 else {"bytes": b"not an image", "path": None}},
        with_indices=True,
    )
    broken.to_parquet(str(data / "data" / "testmini-00000-of-00001.parquet"))
    backend = ScriptedBackend()
    results = run_eval("mathvista_testmini", backend, tmp_path / "out", data=str(data), progress=False)
    assert backend.calls == [] and results["answered"] == 0
    assert {f["stage"] for f in results["failed"].values()} == {"image"}
    assert "decoded_image" in results["failed"]["1"]["error"]


def test_eval_results_only_for_full_runs(tmp_path, monkeypatch):
    """Item 8: `.eval_results` used to be written for --limit runs and for local copies of a few rows."""
    import dataclasses

    from mmreason.eval import benchmarks

    yaml_path = tmp_path / "out" / "mathvista_testmini" / ".eval_results" / "mathvista_testmini.yaml"
    results = _run(tmp_path, ScriptedBackend())
    assert not results["complete"] and "official split(s) 1000" in results["partial"][0]
    assert results["eval_results"] == [] and not yaml_path.exists()
    full = dataclasses.replace(benchmarks.BENCHMARKS["mathvista_testmini"], full_rows=4)
    monkeypatch.setitem(benchmarks.BENCHMARKS, "mathvista_testmini", full)
    results = _run(tmp_path, ScriptedBackend())
    assert results["complete"]
    (entry,) = yaml.safe_load(yaml_path.read_text())
    assert entry["dataset"] == {"id": "AI4Math/MathVista", "task_id": "mathvista_testmini"}
    assert entry["value"] == round(100 * results["metrics"]["strict"]["accuracy"], 2)
    results = _run(tmp_path, ScriptedBackend(), limit=2)
    assert results["partial"] == ["--limit 2"] and not yaml_path.exists()  # the stale file is removed
