"""Declared support = tested support: CI's lowest-version run installs exactly pyproject's lower bounds."""

import re
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11 (CI's)

ROOT = Path(__file__).resolve().parent.parent


def _lower_bounds() -> dict[str, str]:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    bounds = {}
    for dep in deps:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)>=([0-9][0-9a-z.]*)", dep.replace(" ", ""))
        assert match, f"dependency {dep!r} must be declared as 'name>=lowest' so CI can test the lowest version"
        bounds[_norm(match.group(1))] = match.group(2)
    return bounds


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / ".ci" / "lowest-constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pins[_norm(name)] = version
    return pins


def _release(version: str) -> tuple[int, ...]:
    parts = [int(p) for p in version.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


def test_lowest_constraints_pin_every_lower_bound():
    """Every dependency except torch (CI uses the local CPU wheel) is pinned at its declared lower bound."""
    bounds, pins = _lower_bounds(), _pins()
    bounds.pop("torch")
    assert set(pins) == set(bounds)
    for name, lowest in bounds.items():
        assert _release(pins[name]) == _release(lowest), f"{name}: declared >= {lowest}, CI tests {pins[name]}"


def test_ci_runs_both_the_readme_command_and_the_lowest_versions():
    """CI runs the README's test command as written (read from the README by tests/readme_blocks.py) and the
    suite again in a venv pinned to the lowest declared versions."""
    import subprocess
    import sys

    ci = (ROOT / ".ci" / "run").read_text()
    commands = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "readme_blocks.py"), "commands"],
        capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip
    assert 'pip install torch==2.13.0 -e ".[dev]" && python -m pytest tests' in commands
    assert "tests/readme_blocks.py commands" in ci
    assert "-c .ci/lowest-constraints.txt" in ci and "-m pytest tests" in ci.split("lowest declared")[-1]
