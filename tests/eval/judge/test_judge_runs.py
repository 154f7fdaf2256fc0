"""`official` with an LLM judge (issue #11 item 9), against a local stand-in judge (`judge_server.py`):
the official prompts are sent, official-mode numbers go from "n/a (N need a judge)" to decided values
(hand-computed below), replies are cached, the judge is named in the results, failures leave rows undecided."""

import json

import datasets
import pytest

from mmreason.eval.judge import PROMPT_VERSIONS, Judge, JudgeClient, prompts
from mmreason.eval.report import accuracy_text
from mmreason.eval.runner import run_eval
from mmreason.testing import make_image

from ..fixtures import mathvista_rows, write_dynamath, write_mathvista
from ..test_benchmarks import ByQuestion
from .judge_server import JudgeServer

#: MathVista fixture rows: question -> response, and what the stand-in judge extracts from it
MATHVISTA_RESPONSES = {
    "What is the value of x?": "Since x + 1 = 13, x equals 12.",  # extracts 12 -> "12" == "12": correct
    "Which shape is red?": "The red one is the square, option (B).",  # "B" -> choices[1] "square": correct
    "What is the length of AB?": "AB measures about 2.54 cm.",  # "2.54" -> round(2.54, 1) = "2.5": correct
    "How many bars exceed 40?": "I count 4 bars above the line.",  # "4" != "3": wrong
}


@pytest.fixture
def server():
    server = JudgeServer()
    yield server
    server.close()


def _judge(server, model="judge-a"):
    return Judge(JudgeClient(server.url, model, max_retries=0), concurrency=2)


def _mathvista_backend(fail_on=None):
    def answer(text):
        question = text.rsplit("Question: ", 1)[1]
        return MATHVISTA_RESPONSES[question] + (" JUDGE-FAIL" if question == fail_on else "")

    return ByQuestion(answer)


def test_mathvista_official_is_decided_by_the_judge_with_the_official_prompt(tmp_path, server):
    data = str(write_mathvista(tmp_path / "mathvista"))
    plain = run_eval("mathvista_testmini", _mathvista_backend(), tmp_path / "plain", data=data, progress=False)
    assert accuracy_text(plain["metrics"]["official"]) == "n/a (4 need a judge)"

    results = run_eval("mathvista_testmini", _mathvista_backend(), tmp_path / "out", data=data, progress=False,
                       judge=_judge(server))  # fmt: skip
    official = results["metrics"]["official"]
    assert official["accuracy"] == 0.75 and accuracy_text(official) == "75.0"
    assert official["flags"] == {"judged": 4}
    assert results["metrics"]["strict"] == plain["metrics"]["strict"]  # strict is untouched
    sent = sorted(server.prompts())
    expected = sorted(prompts.mathvista_extract(row["query"], MATHVISTA_RESPONSES[row["question"]])
                      for row in mathvista_rows())  # fmt: skip
    assert sent == expected
    assert all(body["temperature"] == 0 and body["model"] == "judge-a" for body in server.requests)
    scores = [json.loads(line) for line in (tmp_path / "out" / "mathvista_testmini" / "scores.jsonl").open()]
    assert [s["official"]["extracted"] for s in scores] == ["12", "square", "2.5", "4"]


def test_a_second_run_asks_nothing_and_another_judge_asks_again(tmp_path, server):
    data = str(write_mathvista(tmp_path / "mathvista"))
    first = run_eval("mathvista_testmini", _mathvista_backend(), tmp_path / "out", data=data, progress=False,
                     judge=_judge(server))  # fmt: skip
    assert len(server.requests) == 4
    again = _judge(server)
    second = run_eval("mathvista_testmini", _mathvista_backend(), tmp_path / "out", data=data, progress=False,
                      judge=again)  # fmt: skip
    assert len(server.requests) == 4 and again.requests == 0
    assert second["metrics"]["official"] == first["metrics"]["official"]
    other = _judge(server, model="judge-b")  # another judge never reuses judge-a's replies
    run_eval("mathvista_testmini", _mathvista_backend(), tmp_path / "out", data=data, progress=False, judge=other)
    assert other.requests == 4 and {b["model"] for b in server.requests[4:]} == {"judge-b"}


def test_the_judge_is_named_in_the_results(tmp_path, server):
    data = str(write_mathvista(tmp_path / "mathvista"))
    results = run_eval("mathvista_testmini", _mathvista_backend(), tmp_path / "out", data=data, progress=False,
                       judge=_judge(server))  # fmt: skip
    saved = json.loads((tmp_path / "out" / "mathvista_testmini" / "results.json").read_text())
    host = server.url.split("//")[1].split("/")[0]
    assert saved["judge"]["host"] == host and saved["judge"]["model"] == "judge-a"
    assert saved["judge"]["prompts"] == {
        "mathvista_extract": {"version": PROMPT_VERSIONS["mathvista_extract"],
                              "source": prompts.SOURCES["mathvista_extract"]},
    }  # fmt: skip
    assert saved["judge_failures"] == {} and results["judge"] == saved["judge"]
    md = (tmp_path / "out" / "mathvista_testmini" / "results.md").read_text()
    assert f"`official` judge: `judge-a` at `{host}`" in md


def test_a_failed_judge_call_leaves_the_row_undecided_and_is_asked_again(tmp_path, server):
    data = str(write_mathvista(tmp_path / "mathvista"))
    backend = _mathvista_backend(fail_on="What is the value of x?")  # the server answers 500 to this row
    results = run_eval("mathvista_testmini", backend, tmp_path / "out", data=data, progress=False,
                       judge=_judge(server))  # fmt: skip
    official = results["metrics"]["official"]
    assert official["flags"] == {"judged": 3, "needs_judge": 1, "judge_failed": 1}
    assert official["accuracy"] == 0.5  # 2 of 4: the failed row is not scored as an answer
    assert accuracy_text(official) == "50.0 (1 need a judge)"
    assert list(results["judge_failures"]) == ["1"] and "500" in results["judge_failures"]["1"]
    scores = [json.loads(line) for line in (tmp_path / "out" / "mathvista_testmini" / "scores.jsonl").open()]
    assert scores[0]["official"] == {"correct": False, "extracted": None, "flags": ["needs_judge", "judge_failed"]}
    before = len(server.requests)
    run_eval("mathvista_testmini", backend, tmp_path / "out", data=data, progress=False, judge=_judge(server))
    assert len(server.requests) == before + 1  # only the failed row is asked again (failures are not cached)


def _mathverse(folder, answers):
    rows = [
        {"sample_index": str(i), "problem_index": str(i), "problem_version": "Vision Only", "question": f"q{i}",
         "image": make_image(20, 20, seed=i), "answer": answer, "question_type": "free-form",
         "metadata": {"subject": "plane geometry", "subfield": "length", "split": "testmini"},
         "query_wo": f"Question {i}: what is x?", "query_cot": f"Question {i}: what is x?", "question_for_eval": "q"}
        for i, answer in enumerate(answers)
    ]  # fmt: skip
    (folder / "data").mkdir(parents=True)
    dataset = datasets.Dataset.from_list(rows).cast_column("image", datasets.Image())
    dataset.to_parquet(str(folder / "data" / "testmini-00000-of-00001.parquet"))
    return str(folder)


def test_mathverse_extracts_then_judges(tmp_path, server):
    data = _mathverse(tmp_path / "mathverse", ["12", "7", "WRONG-FORMAT"])  # the stand-in judges the last "maybe"
    replies = {"0": "x = 12, so the answer is 12.", "1": "Therefore x is 8.", "2": "x is 5"}
    backend = ByQuestion(lambda text: replies[text.split()[1].rstrip(":")])
    plain = run_eval("mathverse_testmini", backend, tmp_path / "plain", data=data, progress=False)
    assert accuracy_text(plain["metrics"]["official"]) == "n/a (3 need a judge)"
    results = run_eval("mathverse_testmini", backend, tmp_path / "out", data=data, progress=False,
                       judge=_judge(server))  # fmt: skip
    official = results["metrics"]["official"]
    # row 0: extraction 12, judgement 1; row 1: 8 vs 7, judgement 0; row 2: the judgement is not 0/1 -> undecided
    assert official["accuracy"] == pytest.approx(1 / 3) and official["flags"]["judged"] == 2
    assert accuracy_text(official) == "33.3 (1 need a judge)"
    assert "neither 0 nor 1" in results["judge_failures"]["2"]
    sent = server.prompts()
    assert prompts.mathverse_extract(replies["1"]) in sent
    assert prompts.mathverse_score("q1", "7", "8") in sent and prompts.mathverse_score("q0", "12", "12") in sent
    assert set(results["judge"]["prompts"]) == {"mathverse_extract", "mathverse_score"}


def test_dynamath_reformats_replies_that_are_not_json(tmp_path, server):
    data = str(write_dynamath(tmp_path / "dynamath", seeds=1))

    def answer(text):  # "DynaMath seed 1 variant v": truth 10 + v; variants 1-5 answer in JSON, 6-10 in prose
        variant = int(text.split("variant ")[1].split(":")[0])
        if variant <= 5:
            return json.dumps({"solution": "...", "short answer": str(10 + variant)})
        if variant == 9:  # nested deeper than the JSON bound: graded through the sentinel too (json_too_deep)
            return "[" * 150 + "The value is 19." + "]" * 150
        return f"The value is {10 + variant if variant < 10 else 0}."

    plain = run_eval("dynamath", ByQuestion(answer), tmp_path / "plain", data=data, progress=False)
    assert plain["metrics"]["official"]["accuracy"] == 0.5  # prose is graded through "wait for check": a fail
    assert plain["metrics"]["official"]["flags"] == {"invalid_json": 4, "json_too_deep": 1}
    results = run_eval("dynamath", ByQuestion(answer), tmp_path / "out", data=data, progress=False,
                       judge=_judge(server))  # fmt: skip
    official = results["metrics"]["official"]
    assert official["accuracy"] == 0.9 and official["flags"] == {"judged": 5}  # variant 10 answered 0: wrong
    assert len(server.requests) == 5
    assert prompts.dynamath_reformat("The value is 16.", "free form") in server.prompts()


def test_a_complete_judged_run_names_the_judge_in_its_eval_results(tmp_path, server, monkeypatch):
    import dataclasses

    from mmreason.eval.benchmarks import BENCHMARKS

    full = dataclasses.replace(BENCHMARKS["mathvista_testmini"], full_rows=4)  # the fixture stands for the split
    monkeypatch.setitem(BENCHMARKS, "mathvista_testmini", full)
    data = str(write_mathvista(tmp_path / "mathvista"))
    results = run_eval("mathvista_testmini", _mathvista_backend(), tmp_path / "out", data=data, progress=False,
                       judge=_judge(server))  # fmt: skip
    assert results["complete"]
    notes = {e["notes"].split(" scorer")[0]: e for e in results["eval_results"]}
    assert notes["mmreason official"]["notes"] == "mmreason official scorer (4/4 rows), judge judge-a"
    assert notes["mmreason official"]["value"] == 75.0
