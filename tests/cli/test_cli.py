"""`mmreason` as a user meets it: help that exits 0 and matches the README, start-up without torch, one-line errors
for missing or mistyped arguments before anything heavy runs, and `import mmreason` still registering the Auto
classes (lazily)."""

import importlib.metadata
import os
import subprocess
import sys
import textwrap

import pytest

from mmreason.cli import main

HEAVY = ("torch", "transformers", "trl", "datasets", "accelerate")


def _python(code: str, cwd=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=env, cwd=cwd, timeout=300
    )


def _cli(argv: list[str], cwd=None) -> subprocess.CompletedProcess:
    """Run `mmreason ARGV` in a fresh interpreter; prints the exit code and which heavy modules were imported."""
    return _python(
        f"""
        import sys
        from mmreason.cli import main
        try:
            main({argv!r})
            code = 0
        except SystemExit as exit:
            code = exit.code
        print("EXIT", code, sorted(name for name in {HEAVY!r} if name in sys.modules))
        """,
        cwd=cwd,
    )


def test_help_and_data_commands_start_without_torch(tmp_path):
    top = _cli(["--help"])
    assert "EXIT 0 []" in top.stdout, top.stderr
    assert all(name in top.stdout for name in ("demo", "convert", "data", "eval", "sft", "--version"))
    data = _cli(["data", "--help"])
    assert "EXIT 0 []" in data.stdout and "prepare" in data.stdout and "export-llava" in data.stdout, data.stderr
    missing = _cli(["data", "validate", "missing.json", "--processor", "x"], cwd=tmp_path)
    assert missing.stderr == "mmreason data validate: error: DATA missing.json: no such file\n"
    assert "EXIT 2" in missing.stdout and "torch" not in missing.stdout


def test_sft_without_a_model_names_the_flag_before_importing_torch(tmp_path):
    result = _cli(["sft", "--use_cpu", "true"], cwd=tmp_path)
    assert result.stderr == (
        "mmreason sft: error: --model_name_or_path is required (on the command line or in the --config file)\n"
    )
    assert "EXIT 2 []" in result.stdout


def test_bare_import_registers_the_auto_classes_lazily(tmp_path):
    from mmreason.testing import build_tiny

    model, processor = build_tiny(seed=0)
    model.save_pretrained(tmp_path / "tiny")
    processor.save_pretrained(tmp_path / "tiny")
    result = _python(
        f"""
        import sys
        import mmreason
        assert "torch" not in sys.modules, "import mmreason pulled in torch"
        from transformers import AutoModelForImageTextToText, AutoProcessor
        model = AutoModelForImageTextToText.from_pretrained({str(tmp_path / "tiny")!r})
        processor = AutoProcessor.from_pretrained({str(tmp_path / "tiny")!r})
        from mmreason import MMReasonForConditionalGeneration
        print(type(model).__name__, type(processor).__name__, isinstance(model, MMReasonForConditionalGeneration))
        """
    )
    assert result.stdout.split() == ["MMReasonForConditionalGeneration", "MMReasonProcessor", "True"], result.stderr
    # transformers' modeling code imported first (its modeling_layers imports the Auto classes half-way through)
    other_order = _python(
        """
        import mmreason
        from transformers import Qwen2ForCausalLM
        from mmreason.model.configuration_mmreason import MMReasonConfig
        from transformers import AutoConfig
        print(type(AutoConfig.for_model("mmreason")).__name__)
        """
    )
    assert other_order.stdout.strip() == "MMReasonConfig", other_order.stderr


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"mmreason {importlib.metadata.version('mmreason')}"


@pytest.mark.parametrize(
    ("argv", "positional", "hidden"),
    [(["convert", "--help"], ["SRC", "DST"], ["--src", "--dst"]), (["data", "prepare", "--help"], ["CORPUS"],
      ["--corpus"]), (["data", "validate", "--help"], ["DATA"], ["--data "])],
)  # fmt: skip
def test_help_shows_the_positional_forms(capsys, argv, positional, hidden):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    usage = out.splitlines()[0]
    assert all(f" {name}" in usage for name in positional), usage
    section = out.split("positional arguments:\n", 1)[1].split("\n\n", 1)[0]
    assert [line.split()[0] for line in section.splitlines() if line.startswith("  ") and line[2] != " "] == positional
    assert not any(flag in out for flag in hidden)


def test_eval_help_lists_the_benchmarks(capsys):
    from mmreason.eval import BENCHMARKS

    with pytest.raises(SystemExit):
        main(["eval", "--help"])
    out = capsys.readouterr().out
    assert "{" + ",".join(sorted(BENCHMARKS)) + "}" in out


def test_sft_help_lists_mmreasons_flags_first(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["sft", "--help"])
    assert exit_info.value.code == 0
    lines = capsys.readouterr().out.splitlines()
    first = {line.split()[0]: index for index, line in reversed(list(enumerate(lines))) if line.startswith("  --")}
    assert first["--model_name_or_path"] < 10 and first["--dataset_name"] < 10
    assert max(first[flag] for flag in ("--mm_tunable_parts", "--multimodal_packing", "--label_mode")) < 80
    assert len(lines[0]) < 120  # a one-line usage, not 140 lines of flags


def test_sft_typos_are_refused_first_with_the_closest_flag(tmp_path, capsys):
    (tmp_path / "model").mkdir()
    (tmp_path / "data").mkdir()
    given = ["--model_name_or_path", str(tmp_path / "model"), "--dataset_name", str(tmp_path / "data")]
    for typo in ("--learning_rat", "--learning_rte"):  # an abbreviation and a misspelling
        with pytest.raises(SystemExit) as exit_info:
            main(["sft", *given, typo, "1e-5", "--use_cpu", "true"])
        assert exit_info.value.code == 2
        assert capsys.readouterr().err == (
            f"mmreason sft: error: unrecognized argument {typo} (did you mean --learning_rate?)\n"
        )
    from mmreason.cli.sft import make_parser

    with pytest.raises(ValueError, match="not used by the HfArgumentParser"):  # the parser alone never abbreviates
        make_parser().parse_args_and_config([*given, "--learning_rat", "1e-5"])
    capsys.readouterr()


def test_mistakes_are_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "bad.json"
    bad.write_text('[\n  {"id": "a", "conversations": []},\n  {"id": "b" "x": 1}\n]\n')
    cases = [
        (["convert", "mmreason-dem", "out"], "mmreason convert: error: SRC mmreason-dem: no such file or folder"),
        (["data", "export-llava", str(bad), "--out", "x.json"], "(line 3, column 14)"),
        (["data", "validate", str(bad)], "mmreason data validate: error: --processor is required"),
        (["data", "valdate"], "mmreason data: error: unknown subcommand 'valdate' (did you mean validate?)"),
        (["eval", "--model", "./nope", "--benchmark", "mathvista_testmini"], "--model ./nope: no such file"),
        (["sf"], "mmreason: error: unknown command 'sf' (did you mean sft?)"),
    ]
    for argv, expected in cases:
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code in (1, 2)
        err = capsys.readouterr().err
        assert len(err.splitlines()) == 1 and expected in err, (argv, err)


def test_cpu_precision_falls_back_to_fp32_with_one_info_line(tmp_path):
    import torch

    from mmreason.cli.sft import make_parser, note_precision

    if torch.cuda.is_available():
        pytest.skip("the fallback is for machines without a bf16 accelerator")
    given = ["--model_name_or_path", "m", "--dataset_name", "d", "--output_dir", str(tmp_path)]
    from .logs import mmreason_messages

    for argv, expected in ((given, 1), ([*given, "--bf16", "false"], 0)):
        with mmreason_messages() as messages:
            _, training_args, _ = make_parser().parse_args_and_config(argv)
            note_precision(argv, training_args)
        assert not training_args.bf16
        assert messages == ["bf16 is off (no bf16-capable accelerator in use): training in fp32"][:expected]
    with pytest.raises(ValueError, match="bf16"):  # asked for explicitly, it still errors
        make_parser().parse_args_and_config([*given, "--bf16", "true"])
