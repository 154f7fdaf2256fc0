"""`mmreason eval --judge_base_url URL --judge_model NAME [--judge_api_key_env VAR]`: the served model and the
judge are both the local stand-in (`judge_server.py`); `official` goes from undecided to a decided number."""

import json

import pytest

from mmreason.cli.eval import main

from ..fixtures import write_mathvista
from .judge_server import JudgeServer


@pytest.fixture
def server():
    server = JudgeServer(generation_reply="I think it is 12.")
    yield server
    server.close()


def _eval(tmp_path, server, capsys, *extra):
    data = write_mathvista(tmp_path / "mathvista")
    main(["--model", "served", "--base_url", server.url, "--benchmark", "mathvista_testmini", "--data", str(data),
          "--output_dir", str(tmp_path / "out"), *extra])  # fmt: skip
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_official_needs_a_judge_without_one(tmp_path, server, capsys):
    assert _eval(tmp_path, server, capsys)["accuracy"]["official"] is None


def test_the_judge_flags_decide_official(tmp_path, server, capsys, monkeypatch):
    monkeypatch.setenv("MY_JUDGE_KEY", "sk-test")
    summary = _eval(tmp_path, server, capsys, "--judge_base_url", server.url, "--judge_model", "judge-x",
                    "--judge_api_key_env", "MY_JUDGE_KEY")  # fmt: skip
    # every response is "I think it is 12."; the judge extracts "12": right for x (12), wrong for the shape
    # (Levenshtein-closest choice to "12" is "circle", not "square"), the length (12.0 vs 2.5) and the count (3)
    assert summary["accuracy"]["official"] == 0.25
    results = json.loads((tmp_path / "out" / "mathvista_testmini" / "results.json").read_text())
    assert results["judge"]["model"] == "judge-x"
    judged = [key for body, key in zip(server.requests, server.keys) if body["model"] == "judge-x"]
    assert judged == ["Bearer sk-test"] * 4


def test_judge_flags_go_together(tmp_path, server, capsys):
    with pytest.raises(SystemExit) as error:
        _eval(tmp_path, server, capsys, "--judge_model", "judge-x")
    assert error.value.code == 2
    assert "--judge_base_url and --judge_model go together" in capsys.readouterr().err
