"""`spaces/mmreason-demo/` is deployable as it is: its README's front matter is a valid Space config naming files
that exist and the Gradio version mmreason declares; which model the app serves follows the documented order."""

import re
from pathlib import Path

from huggingface_hub import SpaceCard

from mmreason.serve.models import MODEL_ENV, resolve_model

SPACE = Path(__file__).resolve().parents[2] / "spaces" / "mmreason-demo"


def test_space_config_is_valid_and_points_at_existing_files():
    card = SpaceCard.load(SPACE / "README.md", ignore_metadata_errors=False)
    data = card.data.to_dict()
    assert data["sdk"] == "gradio" and (SPACE / data["app_file"]).exists()
    pyproject = (SPACE.parents[1] / "pyproject.toml").read_text()
    assert f'space = ["gradio>={data["sdk_version"].rsplit(".", 1)[0]}"]' in pyproject
    assert data["python_version"] == "3.11" and data["suggested_hardware"] == "zero-a10g"
    requirements = (SPACE / "requirements.txt").read_text()
    assert re.search(r"^mmreason\[space\]", requirements, re.M) and re.search(r"^spaces", requirements, re.M)
    assert "build_demo" in (SPACE / "app.py").read_text()


def test_model_choice_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(MODEL_ENV, raising=False)
    assert resolve_model() is None  # nothing here: the random tiny model
    for stage in ("sft", "mpo"):
        folder = tmp_path / "mmreason-quickstart" / "models" / stage
        folder.mkdir(parents=True)
        (folder / "config.json").write_text("{}")
    assert resolve_model() == str(Path("mmreason-quickstart") / "models" / "mpo")  # the most trained one
    monkeypatch.setenv(MODEL_ENV, "MAmmoTH-VL/MAmmoTH-VL-8B")
    assert resolve_model() == "MAmmoTH-VL/MAmmoTH-VL-8B"
    assert resolve_model("my/model") == "my/model"
