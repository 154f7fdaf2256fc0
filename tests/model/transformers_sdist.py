"""transformers' own model tests (`ModelTesterMixin`), taken from the sdist of the installed transformers.

The sdist is fetched from the package registry at test time (`pip download --no-deps --no-binary :all:`) into a
cache under the system temp dir (or `$MMREASON_TEST_CACHE`), never into the repository. Its `tests/` folder holds
`test_modeling_common.py` but not the sub-packages that file imports its two extra mixins from (`exporters/`,
`generation/`); those are written as empty mixins, so the export and `generate()` suites are not part of the run.
"""

import os
import subprocess
import sys
import tarfile
import tempfile
from importlib.metadata import version
from pathlib import Path

#: The package the extracted `tests/*.py` are put under (its relative imports resolve inside it).
PACKAGE = "transformers_sdist_tests"
#: Test-time dependencies of `test_modeling_common.py` that mmreason's own dev extra does not install.
TEST_DEPENDENCIES = ("parameterized",)

_EMPTY_MIXINS = {
    "exporters/test_export.py": "class ExportTesterMixin:\n    pass\n",
    "generation/test_utils.py": "class GenerationTesterMixin:\n    pass\n",
}


def cache_dir() -> Path:
    """Where downloaded test sources live: `$MMREASON_TEST_CACHE` or `<tmp>/mmreason-test-cache`."""
    root = os.environ.get("MMREASON_TEST_CACHE") or os.path.join(tempfile.gettempdir(), "mmreason-test-cache")
    return Path(root)


def _pip_download(requirement: str, dest: Path, *, source: bool, timeout: float) -> Path:
    """Download one distribution (no dependencies); returns its file. Raises `RuntimeError` with pip's message."""
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-cache-dir", "--disable-pip-version-check"]
    cmd += ["-q", "--timeout", "20", "--retries", "1", "-d", str(dest)]  # unreachable registry: skip fast
    cmd += ["--no-binary", ":all:"] if source else ["--only-binary", ":all:"]
    try:
        proc = subprocess.run([*cmd, requirement], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as err:
        raise RuntimeError(f"`pip download {requirement}` timed out after {timeout:.0f} s") from err
    files = sorted(p for p in dest.iterdir() if p.is_file())
    if proc.returncode != 0 or not files:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no file"]
        raise RuntimeError(f"`pip download {requirement}` failed: {tail[0]}")
    return files[0]


def transformers_tests_root(timeout: float = 300.0) -> Path:
    """A folder with `transformers_sdist_tests/` (the installed transformers' sdist `tests/*.py`) and the test
    dependencies, ready for `PYTHONPATH`. Downloads once per version; raises `RuntimeError` if that fails."""
    tf_version = version("transformers")
    root = cache_dir() / f"transformers-{tf_version}-tests"
    done = root / ".complete"
    if done.exists():
        return root
    sdist = _pip_download(f"transformers=={tf_version}", root / "sdist", source=True, timeout=timeout)
    package = root / PACKAGE
    with tarfile.open(sdist) as tar:
        for member in tar.getmembers():
            parts = Path(member.name).parts
            if member.isfile() and len(parts) == 3 and parts[1] == "tests" and parts[2].endswith(".py"):
                target = package / parts[2]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(tar.extractfile(member).read())
    if not (package / "test_modeling_common.py").exists():
        raise RuntimeError(f"{sdist.name} has no tests/test_modeling_common.py")
    (package / "__init__.py").touch()
    for relative, text in _EMPTY_MIXINS.items():
        path = package / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        (path.parent / "__init__.py").touch()
        if not path.exists():
            path.write_text(text)
    for name in TEST_DEPENDENCIES:
        try:
            __import__(name)
        except ImportError:
            wheel = _pip_download(name, root / "wheels", source=False, timeout=timeout)
            import zipfile

            with zipfile.ZipFile(wheel) as archive:
                archive.extractall(root)
    done.touch()
    return root


def pytest_runtest_logreport(report) -> None:
    """pytest hook (this module is loaded with `-p transformers_sdist` in the peer run): append every test's and
    subtest's outcome to the JSON-lines file `$MMREASON_PEER_REPORT` (junitxml drops failed subtests)."""
    path = os.environ.get("MMREASON_PEER_REPORT")
    if not path or (report.when != "call" and report.outcome == "passed"):
        return
    import json

    reason = ""
    if report.skipped and isinstance(report.longrepr, tuple):
        reason = report.longrepr[2]
    elif report.failed:
        reason = str(getattr(report.longrepr, "reprcrash", None) and report.longrepr.reprcrash.message)
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps({"nodeid": report.nodeid, "outcome": report.outcome, "reason": reason}) + "\n")
