"""The command line's shared error handling (`mmreason.cli.errors`), in process: one-line errors, strict flags,
offline-first source checks, JSON positions, logging that leaves other libraries alone."""

import json
import logging
import os
import time
from types import SimpleNamespace

import pytest

from mmreason.cli import errors
from mmreason.cli.errors import CLIError, check_flags, check_source, describe, json_position, looks_like_path
from mmreason.data.json_stream import JsonStreamError


def test_unknown_flag_is_refused_with_the_closest_name():
    known = {"--learning_rate", "--lr_scheduler_type", "--max_steps", "--help"}
    with pytest.raises(CLIError, match=r"unrecognized argument --learning_rat \(did you mean --learning_rate\?\)"):
        check_flags(["--max_steps", "3", "--learning_rat", "1e-5"], known)
    with pytest.raises(CLIError, match=r"--learning_rte \(did you mean --learning_rate\?\)"):
        check_flags(["--learning_rte=1e-5"], known)
    check_flags(["--max_steps=3", "--learning_rate", "1e-5", "--", "--whatever"], known)  # exact names pass


@pytest.mark.parametrize(
    ("text", "cut"),
    [
        ('[\n  {"id": "a"},\n  {"id": "b" "x": 1}\n]\n', None),
        ('[{"id": 1},\n\n\n   {"id": 2,, "y": 3}]', None),
        ("[1, 2,\n 3 4]", None),
    ],
)
def test_json_errors_name_line_and_column_as_json_does(tmp_path, text, cut):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(json.JSONDecodeError) as reference:  # the stdlib's own line/column is the reference
        json.loads(text)
    line, column = json_position(str(path), reference.value.pos)
    assert (line, column) == (reference.value.lineno, reference.value.colno)
    message = describe(JsonStreamError(str(path), "malformed record", reference.value.pos))
    assert message.endswith(f"(line {reference.value.lineno}, column {reference.value.colno})")
    assert describe(reference.value) == (
        f"invalid JSON: {reference.value.msg} at line {reference.value.lineno}, column {reference.value.colno}"
    )


@pytest.mark.parametrize(
    ("value", "is_path"),
    [
        ("./mmreason-dem", True), ("mmreason-dem", True), ("/data/x", True), ("~/ckpt", True), ("a/b/c", True),
        ("rows.jsonl", True), ("C:\\data", True), ("MAmmoTH-VL/MAmmoTH-VL-8B", False), ("org/name", False),
    ],
)  # fmt: skip
def test_path_looking_arguments(value, is_path):
    assert looks_like_path(value) is is_path


def test_a_mistyped_local_folder_fails_at_once(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mmreason-demo").mkdir()
    check_source("mmreason-demo", "SRC")  # exists: fine
    start = time.perf_counter()
    with pytest.raises(CLIError, match=r"^SRC mmreason-dem: no such file or folder"):
        check_source("mmreason-dem", "SRC")
    with pytest.raises(CLIError, match="neither a local path nor a valid Hub id"):
        check_source("org/na--me", "--model")
    with pytest.raises(CLIError, match=r"^--processor is required: pass X$"):
        check_source(None, "--processor", required="pass X")
    assert time.perf_counter() - start < 1.0


def test_offline_hub_ids_fail_fast_with_what_to_pass(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.perf_counter()
    with pytest.raises(CLIError, match="not in the local Hub cache and HF_HUB_OFFLINE is set; pass a local folder"):
        check_source("some-org/not-cached-model-xyz", "--processor")
    assert time.perf_counter() - start < 1.0


def test_unreachable_hub_fails_fast(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: nothing listens
    with pytest.raises(CLIError, match="the Hub is unreachable; pass a local dataset folder"):
        check_source("some-org/some-dataset", "--dataset_name", kind="dataset")


def test_run_command_prints_one_line_and_the_traceback_only_with_debug(capsys):
    def fails(argv):
        raise ValueError("bad value\n  on two lines")

    with pytest.raises(SystemExit) as exit_info:
        errors.run_command("mmreason x", fails, ["--a"])
    assert exit_info.value.code == 1
    assert capsys.readouterr().err == "mmreason x: error: bad value on two lines\n"
    with pytest.raises(SystemExit):
        errors.run_command("mmreason x", fails, ["--debug"])
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and err.endswith("mmreason x: error: bad value on two lines\n")


def test_logging_configures_mmreason_only():
    root = logging.getLogger()
    before = (root.level, list(root.handlers))
    errors.configure_logging()
    errors.configure_logging()  # idempotent: one handler
    mine = logging.getLogger("mmreason")
    assert (root.level, list(root.handlers)) == before
    # pytest >= 9.2 attaches its own capture handlers to non-propagating loggers during a test: leave those out
    ours = [h for h in mine.handlers if type(h).__module__ != "_pytest.logging"]
    assert mine.level == logging.INFO and not mine.propagate and len(ours) == 1
    # accelerate's "[RANK 0] The used dataset had no length" is an INFO record: not shown under the default WARNING
    assert not logging.getLogger("accelerate.accelerator").isEnabledFor(logging.INFO)
    assert logging.getLogger("mmreason.sft").isEnabledFor(logging.INFO)


def test_dataloader_workers_are_capped_to_the_cpus():
    from mmreason.cli.sft import cap_dataloader_workers

    available = len(os.sched_getaffinity(0))
    args = SimpleNamespace(dataloader_num_workers=available + 16)
    from .logs import mmreason_messages

    with mmreason_messages() as messages:
        cap_dataloader_workers(args)
    assert args.dataloader_num_workers == available
    assert messages == [f"dataloader_num_workers {available + 16} -> {available} (the CPUs available)"]
    args = SimpleNamespace(dataloader_num_workers=0)
    cap_dataloader_workers(args)
    assert args.dataloader_num_workers == 0
