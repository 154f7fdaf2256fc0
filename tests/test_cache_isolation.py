"""The suite never touches the user's caches (issue #19 item 1): every cache the stack resolves is a session temp dir.

The counterpart check, that the user's real cache folders are byte-for-byte unchanged (names, sizes, mtimes) at the
end of the session, is `tests/conftest.py::user_caches_untouched` (it fails the session).
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.conftest import CACHE_ENV, CACHE_ROOT, USER_CACHE_DIRS, snapshot

PROBE = r"""
import json, os
import datasets, huggingface_hub.constants as hub, transformers.utils.hub as th, matplotlib
import torch.hub
print(json.dumps({
    "datasets": str(datasets.config.HF_DATASETS_CACHE),
    "hub": hub.HF_HUB_CACHE,
    "hf_home": hub.HF_HOME,
    "token": hub.HF_TOKEN_PATH,
    "modules": str(th.HF_MODULES_CACHE),
    "matplotlib": matplotlib.get_cachedir(),
    "torch": torch.hub.get_dir(),
    "xdg": os.environ["XDG_CACHE_HOME"],
}))
"""


def _inside(path: str, root: Path) -> bool:
    return Path(path).resolve().is_relative_to(root.resolve())


def test_cache_environment_points_to_the_session_temp_dir():
    root = Path(tempfile.gettempdir())
    assert _inside(str(CACHE_ROOT), root) and CACHE_ROOT.name.startswith("mmreason-tests-cache-")
    for name in ("HF_HOME", "HF_HUB_CACHE", "HF_DATASETS_CACHE", "HF_MODULES_CACHE", "XDG_CACHE_HOME", "MPLCONFIGDIR"):
        assert name in CACHE_ENV and _inside(os.environ[name], CACHE_ROOT), (name, os.environ.get(name))
    for user_dir in USER_CACHE_DIRS:
        assert not _inside(str(user_dir), CACHE_ROOT)


def test_libraries_resolve_every_cache_inside_the_session_temp_dir():
    """What the libraries themselves resolve, in a fresh interpreter that inherits the suite's environment."""
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    resolved = json.loads(result.stdout.strip().splitlines()[-1])
    outside = {name: path for name, path in resolved.items() if not _inside(path, CACHE_ROOT)}
    assert not outside, f"caches outside {CACHE_ROOT}: {outside}"


def test_a_datasets_build_writes_only_into_the_session_cache(tmp_path):
    """`load_dataset` of a local file (which writes an Arrow cache) leaves the user's cache folders as they were."""
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps({"x": i}) + "\n" for i in range(5)))
    before = snapshot(USER_CACHE_DIRS)
    files = str(tmp_path / "rows.jsonl")
    code = f"import datasets; print(datasets.load_dataset('json', data_files={files!r}, split='train')"
    code += ".cache_files[0]['filename'])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert _inside(result.stdout.strip().splitlines()[-1], CACHE_ROOT)
    assert snapshot(USER_CACHE_DIRS) == before
