"""Shared fixtures: tiny offline models and deterministic images; the suite's own caches.

The suite never reads or writes the user's caches: before anything is imported, every cache location the stack
reads (`HF_HOME` and each Hugging Face cache under it, `XDG_CACHE_HOME`, matplotlib's, torch's) points into one
temporary folder, which subprocesses inherit and which is removed at the end. The user's real cache folders are
listed (names, sizes, mtimes) when the session starts and again when it ends; any difference fails the session.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _user_cache_dirs() -> list[Path]:
    """The cache folders the stack would use for this user, read from the environment as the session found it."""
    xdg = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    hf_home = Path(os.environ.get("HF_HOME") or xdg / "huggingface")
    named = [os.environ.get(name) for name in (*HF_CACHE_VARIABLES, "MPLCONFIGDIR", "TORCH_HOME")]
    dirs = [hf_home, xdg / "huggingface", xdg / "matplotlib", xdg / "torch", *(Path(p) for p in named if p)]
    return sorted(set(dirs))


def snapshot(folders: list[Path], limit: int = 50_000) -> dict[str, tuple[int, int] | None]:
    """`{path: (size, mtime_ns)}` of every file and folder under `folders` (`None` for a folder that is absent)."""
    listing: dict[str, tuple[int, int] | None] = {}
    for folder in folders:
        if not folder.exists():
            listing[str(folder)] = None
            continue
        for root, dirs, files in os.walk(folder):
            for name in (".", *dirs, *files):
                path = os.path.join(root, name)
                try:
                    stat = os.lstat(path)
                except OSError:
                    continue
                listing[os.path.normpath(path)] = (stat.st_size, stat.st_mtime_ns)
            if len(listing) > limit:
                break
    return listing


HF_CACHE_VARIABLES = (
    "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_DATASETS_CACHE", "HF_MODULES_CACHE", "HF_XET_CACHE",
    "HF_ASSETS_CACHE", "HF_EVALUATE_CACHE", "HF_METRICS_CACHE",
)  # fmt: skip
USER_CACHE_DIRS = _user_cache_dirs()
USER_CACHES_BEFORE = snapshot(USER_CACHE_DIRS)

# One temporary root for every cache of the session, set before `datasets`, `huggingface_hub`, `transformers` or
# matplotlib are imported (they resolve their cache paths at import).
CACHE_ROOT = Path(tempfile.mkdtemp(prefix="mmreason-tests-cache-"))
HF_HOME = CACHE_ROOT / "huggingface"
DATASETS_CACHE = HF_HOME / "mmreason-tests-hf-datasets-cache"  # the name tests/data/test_prepare_rerun.py checks
CACHE_ENV = {
    "HF_HOME": HF_HOME,
    "HF_HUB_CACHE": HF_HOME / "hub",
    "HUGGINGFACE_HUB_CACHE": HF_HOME / "hub",
    "HF_DATASETS_CACHE": DATASETS_CACHE,
    "HF_MODULES_CACHE": HF_HOME / "modules",
    "HF_XET_CACHE": HF_HOME / "xet",
    "HF_ASSETS_CACHE": HF_HOME / "assets",
    "HF_EVALUATE_CACHE": HF_HOME / "evaluate",
    "HF_METRICS_CACHE": HF_HOME / "metrics",
    "HF_TOKEN_PATH": HF_HOME / "token",
    "XDG_CACHE_HOME": CACHE_ROOT / "xdg",
    "MPLCONFIGDIR": CACHE_ROOT / "matplotlib",
    "TORCH_HOME": CACHE_ROOT / "torch",
    "TORCHINDUCTOR_CACHE_DIR": CACHE_ROOT / "torchinductor",
    "TRITON_CACHE_DIR": CACHE_ROOT / "triton",
}
os.environ.update({name: str(path) for name, path in CACHE_ENV.items()})
if "datasets" in sys.modules:  # imported by a plugin before this file: point its resolved default there too
    sys.modules["datasets"].config.HF_DATASETS_CACHE = DATASETS_CACHE
if "huggingface_hub" in sys.modules:
    sys.modules["huggingface_hub"].constants.HF_HUB_CACHE = str(CACHE_ENV["HF_HUB_CACHE"])

from mmreason.testing import build_tiny, make_image  # noqa: E402 (after the cache is set)


@pytest.fixture(scope="session", autouse=True)
def user_caches_untouched():
    """Fails the session if any of the user's cache folders changed while it ran; removes the session's caches."""
    yield USER_CACHE_DIRS
    shutil.rmtree(CACHE_ROOT, ignore_errors=True)
    after = snapshot(USER_CACHE_DIRS)
    changed = sorted(path for path in {*USER_CACHES_BEFORE, *after} if USER_CACHES_BEFORE.get(path) != after.get(path))
    if changed:
        pytest.fail(
            f"the user's caches changed while the test session ran (a process outside the suite writing there at "
            f"the same time shows here too): {changed[:20]}",
            pytrace=False,
        )


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes a minute or more on 2 CPU cores (CI still runs it)")


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    """`mmreason demo --max_steps 30 --examples 2` run once, as a user runs it, in a fresh folder: `(folder,
    completed process)`; the checkpoint is `folder / "mmreason-demo"`, the README's default."""
    folder = tmp_path_factory.mktemp("demo-folder")
    command = [sys.executable, "-m", "mmreason.cli", "demo", "--max_steps", "30", "--examples", "2"]
    result = subprocess.run(command, capture_output=True, text=True, cwd=folder, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return folder, result


@pytest.fixture(scope="session")
def datasets_cache():
    """The session's `HF_DATASETS_CACHE` (under the session's cache root, removed at the end)."""
    return DATASETS_CACHE


@pytest.fixture(scope="session")
def tiny():
    """(model, processor) with 32 px tiles and anyres_max_4."""
    return build_tiny()


@pytest.fixture(scope="session")
def images():
    """A wide, a tall and a small image."""
    return {
        "wide": make_image(150, 60, seed=1),
        "tall": make_image(40, 130, seed=2),
        "small": make_image(20, 14, seed=3),
    }


#: a reduced `mmreason quickstart`: two families whose text-rich easy questions a tiny model learns in a few hundred
#: steps (numbers: copy two digits, add; clock: copy the hour), fewer problems and steps than `tiny`
QUICKSTART_REDUCED = [
    "--families", "numbers", "clock", "--n_train", "400", "--n_test", "20", "--sft_steps", "600", "--batch_size", "16",
    "--n_pair_questions", "24", "--num_samples", "8", "--mpo_steps", "4", "--puma_steps", "4", "--grpo_steps", "2",
]  # fmt: skip


#: the reduced quickstart, started in the background as soon as collection shows a test needs it (one torch thread:
#: it runs beside the rest of the suite on the second core instead of holding the suite up for ~2.5 min)
_QUICKSTART: dict = {}


@pytest.hookimpl(trylast=True)  # after `-m` / `-k` deselection: only when a selected test needs it
def pytest_collection_modifyitems(config, items):
    if any("quickstart_run" in getattr(item, "fixturenames", ()) for item in items) and not _QUICKSTART:
        folder = Path(tempfile.mkdtemp(prefix="quickstart-folder-", dir=CACHE_ROOT))
        command = [sys.executable, "-m", "mmreason.cli", "quickstart", "--seed", "1", *QUICKSTART_REDUCED]
        log = open(folder / "quickstart.log", "w+")  # noqa: SIM115 (closed by the fixture)
        _QUICKSTART.update(folder=folder, log=log, process=subprocess.Popen(
            command, cwd=folder, stdout=log, stderr=subprocess.STDOUT, text=True))  # fmt: skip


def pytest_sessionfinish(session, exitstatus):
    process = _QUICKSTART.get("process")
    if process is not None and process.poll() is None:  # the session ended before a test waited for it
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def quickstart_run():
    """The README's first command, reduced (`QUICKSTART_REDUCED`), run once as a user runs it in a fresh folder:
    `(folder, output)`; everything is under `folder / "mmreason-quickstart"`, the default output. Started at
    collection (see `pytest_collection_modifyitems`); this waits for it."""
    process, folder, log = _QUICKSTART["process"], _QUICKSTART["folder"], _QUICKSTART["log"]
    try:
        process.wait(timeout=1200)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    log.seek(0)
    output = log.read()
    assert process.returncode == 0, output[-3000:]
    return folder, subprocess.CompletedProcess(process.args, process.returncode, stdout=output, stderr=output)
