"""The README's snippets run as written (issue #19 item 2), and CI's copy of its two commands is the README's."""

import os
import subprocess
import sys

import pytest

from tests.readme_blocks import README, blocks, runnable_snippets, two_commands


def test_the_two_commands_are_install_quickstart_and_install_tests():
    first, second = two_commands()
    assert first.startswith("pip install") and first.endswith("&& mmreason quickstart")
    assert second.startswith("pip install") and second.endswith("&& python -m pytest tests")


def test_the_quick_start_is_marked_runnable_and_every_marked_block_is_python():
    marked = [(lang, code) for lang, code, runnable in blocks(README.read_text()) if runnable]
    assert marked and all(lang == "python" for lang, _ in marked)
    assert any('from_pretrained("mmreason-quickstart/models/sft")' in code for code in runnable_snippets())


@pytest.mark.slow
@pytest.mark.parametrize("number", range(len(runnable_snippets())))
def test_runnable_snippet_runs_as_written_where_the_quickstart_ran(quickstart_run, number):
    """In the folder where (a reduced) `mmreason quickstart` ran, offline, in a fresh interpreter: exit 0."""
    folder, _ = quickstart_run
    code = runnable_snippets()[number]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=folder, env=env,
                            timeout=300)  # fmt: skip
    assert result.returncode == 0, f"README snippet {number} failed in {folder}:\n{code}\n{result.stderr[-3000:]}"
    assert "Traceback" not in result.stderr
