"""The `[lmms]` extra keeps the torch + torchvision pair a user installed first, and `.ci/lmms_check.sh` proves it
with a real lmms-eval run (issue #19 items 9 and 10). The real install and run take minutes, so CI runs the script;
these tests check what it relies on."""

import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11 (CI's)

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / ".ci" / "lmms_check.sh"

#: PyTorch's release pairs (each torchvision wheel requires `torch==` its torch): torch minor -> torchvision minor
TORCHVISION_OF_TORCH = {"2.12": "0.27", "2.13": "0.28", "2.14": "0.29", "2.15": "0.30"}
SUPPORTED_TORCH = ("2.13", "2.14")  # 2.14.1/0.29.1 run by .ci/lmms_check.sh; 2.13.0/0.28.0 from PyTorch's CPU index


def _extra(name: str) -> dict[str, Requirement]:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    return {Requirement(dep).name: Requirement(dep) for dep in extras[name]}


def _default_pair() -> dict[str, str]:
    match = re.search(r"\$\{TORCH_PAIR:-([^}]*)\}", SCRIPT.read_text())
    assert match, "the script installs ${TORCH_PAIR:-<default pair>} first"
    return dict(pin.split("==") for pin in match.group(1).split())


def test_lmms_extra_accepts_exactly_the_torchvision_of_each_supported_torch():
    """A torchvision the extra admits never needs another torch than a supported one, so a pair installed first is
    kept; the old cap (< 0.29) refused torch 2.14's torchvision and so replaced a torch 2.14 install."""
    spec = _extra("lmms")["torchvision"].specifier
    for torch_minor, vision_minor in TORCHVISION_OF_TORCH.items():
        for patch in ("0", "1", "2"):
            admitted = Version(f"{vision_minor}.{patch}") in spec
            assert admitted == (torch_minor in SUPPORTED_TORCH), (torch_minor, f"{vision_minor}.{patch}", spec)


def test_lmms_extra_keeps_filelock_3():
    """lmms-eval 0.7.3 imports `filelock._api`, which filelock 4 (pulled in by new torch wheels) removed."""
    spec = _extra("lmms")["filelock"].specifier
    assert Version("3.20.0") in spec and Version("4.0.0") not in spec and Version("4.0.8") not in spec
    assert _extra("lmms")["lmms-eval"].specifier.contains("0.7.3")


def test_lmms_check_installs_a_supported_pair_first_and_fails_if_the_extra_replaces_it():
    pair, text = _default_pair(), SCRIPT.read_text()
    torch, vision = Version(pair["torch"]), Version(pair["torchvision"])
    assert f"{torch.major}.{torch.minor}" in SUPPORTED_TORCH
    assert TORCHVISION_OF_TORCH[f"{torch.major}.{torch.minor}"] == f"{vision.major}.{vision.minor}"
    assert vision in _extra("lmms")["torchvision"].specifier
    assert text.index("${TORCH_PAIR:-") < text.index('-e "$root[lmms]"') < text.index('[ "$before" != "$after" ]')
    assert "m.version('torch'), m.version('torchvision')" in text
    assert 'lmms-eval" --model mmreason' in text and "--include_path" in text
