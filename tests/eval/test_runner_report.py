"""Reports that do not overstate (issue #11 item 8): n/a for undecided modes, every breakdown, a 0-100 plot, and
one unit (fractions) for the CLI and the `evaluate` metric."""

import json

import datasets
import evaluate

from mmreason.eval import METRIC_PATH
from mmreason.eval.report import plot_results
from mmreason.eval.runner import run_eval
from mmreason.testing import make_image
from tests.generation.stand_in import StandInServer as _Server

from .fixtures import mathvista_rows, write_mathvista, write_wemath
from .test_benchmarks import ByQuestion, _wemath_answer


def _mathverse(folder):
    rows = [
        {"sample_index": str(i), "problem_index": str(i), "problem_version": "Vision Only", "question": f"q{i}",
         "image": make_image(20, 20, seed=i), "answer": "12", "question_type": "free-form",
         "metadata": {"subject": "plane geometry", "subfield": "length", "split": "testmini"},
         "query_wo": f"Question {i}: what is x?", "query_cot": f"Question {i}: what is x?", "question_for_eval": "q"}
        for i in range(2)
    ]  # fmt: skip
    (folder / "data").mkdir(parents=True)
    dataset = datasets.Dataset.from_list(rows).cast_column("image", datasets.Image())
    dataset.to_parquet(str(folder / "data" / "testmini-00000-of-00001.parquet"))
    return folder


def test_a_mode_that_decided_nothing_reads_na(tmp_path):
    """MathVerse `official` leaves every non-identical response to a GPT judge: it used to read 0.0."""
    data = _mathverse(tmp_path / "mathverse")
    backend = ByQuestion(lambda text: "x = 12, so the answer is 12.")
    results = run_eval("mathverse_testmini", backend, tmp_path / "out", data=str(data), progress=False)
    md = (tmp_path / "out" / "mathverse_testmini" / "results.md").read_text()
    overall = next(line for line in md.splitlines() if line.startswith("| **overall**"))
    cells = dict(zip(["official", "strict"], [c.strip() for c in overall.split("|")[2:4]]))
    assert cells["official"] == "n/a (2 need a judge)" and cells["strict"] == "100.0"
    assert all("official" not in e["notes"] for e in results["eval_results"])


def test_results_md_shows_every_breakdown(tmp_path):
    data = write_wemath(tmp_path / "wemath")
    run_eval("wemath_testmini", ByQuestion(_wemath_answer), tmp_path / "out", data=str(data), progress=False)
    md = (tmp_path / "out" / "wemath_testmini" / "results.md").read_text()
    for expected in ("## knowledge concept", "| area (3) |", "four_dim_strict.score", "four_dim_loose.RM",
                     "one_step_accuracy", "two_step_accuracy", "four_dim_strict.counts.CM | 1 | 1"):  # fmt: skip
        assert expected in md, expected
    data = write_mathvista(tmp_path / "mathvista")
    backend = ByQuestion(lambda text: "Answer: 12")
    run_eval("mathvista_testmini", backend, tmp_path / "out", data=str(data), progress=False)
    md = (tmp_path / "out" / "mathvista_testmini" / "results.md").read_text()
    # MathVista's `calculate_score.py` breakdown keys (the reference's §2.1)
    for key in ("question_type", "answer_type", "language", "source", "category", "task", "context", "grade",
                "skills"):  # fmt: skip
        assert f"## {key}" in md, key


def test_plot_axis_and_title(tmp_path):
    data = write_mathvista(tmp_path / "mathvista")
    model = "/scratch/" + "very-long-folder-name/" * 6 + "checkpoint-12000"
    results = run_eval("mathvista_testmini", ByQuestion(lambda text: "Answer: 12"), tmp_path / "out",
                       data=str(data), model_name=model, progress=False)  # fmt: skip
    (axis,) = plot_results(results).axes
    assert axis.get_ylim() == (0.0, 100.0)
    title = axis.get_title()
    assert "mathvista_testmini" in title and "checkpoint-12000" in title
    assert max(len(line) for line in title.splitlines()) <= 70


def test_cli_and_evaluate_metric_share_the_unit(tmp_path, monkeypatch, capsys):
    from mmreason.cli.eval import main

    rows = mathvista_rows()
    rows[0]["answer"] = rows[3]["answer"] = "42"  # integer rows; the stand-in server answers "Answer: 42"
    data = tmp_path / "mathvista"
    (data / "data").mkdir(parents=True)
    dataset = datasets.Dataset.from_list(rows).cast_column("decoded_image", datasets.Image())
    dataset.to_parquet(str(data / "data" / "testmini-00000-of-00001.parquet"))
    server = _Server(failures=0)
    try:
        main(["--model", "served", "--base_url", server.url, "--benchmark", "mathvista_testmini", "--data",
              str(data), "--output_dir", str(tmp_path / "out"), "--modes", "strict"])  # fmt: skip
    finally:
        server.httpd.shutdown()
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    monkeypatch.setenv("HF_EVALUATE_OFFLINE", "1")
    monkeypatch.setenv("HF_MODULES_CACHE", str(tmp_path / "modules"))
    metric = evaluate.load(METRIC_PATH, "mathvista_testmini")
    references = [json.dumps({k: v for k, v in row.items() if k != "decoded_image"}) for row in rows]
    computed = metric.compute(predictions=["Answer: 42"] * 4, references=references)
    # by hand: 2 of the 4 golds are 42 -> one half, in both (the CLI used to print 50.0)
    assert printed["accuracy"]["strict"] == computed["accuracy"] == 0.5
    assert printed["partial"]
