"""mmreason's lmms-eval tasks (mmreason/eval/lmms_tasks): yamls resolve, `process_results` scores both modes with
flags, the `[lmms]` extra keeps torch 2.13 and filelock 3, and the yamls ship as package data.

The real `lmms-eval --model mmreason` run on these tasks is `.ci/lmms_check.sh` (its own venv: lmms-eval pulls ~150
packages). Here `!function` tags resolve as lmms-eval's loader does for dotted names (`importlib.import_module`).
"""

import fnmatch
import importlib
import json
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from mmreason.eval.lmms_tasks import TASK_DIR, bridge
from mmreason.testing import make_image

from .lmms_fixtures import write_local_tasks

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11 (CI's)
ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ["mathvista_testmini_mmreason", "mmmu_val_mmreason"]


class _Loader(yaml.SafeLoader):
    pass


def _function(loader, node):
    module, name = loader.construct_scalar(node).rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


_Loader.add_constructor("!function", _function)


def load_task(path: Path) -> dict:
    config = yaml.load(path.read_text(), Loader=_Loader)
    if "include" in config:
        base = load_task(Path(config.pop("include")))
        config = {**base, **config}
    return config


MC = {"id": "validation_Art_Theory_1", "question": "Which style is shown in <image 1>?", "answer": "B",
      "options": "['Baroque', 'Cubism', 'Gothic']", "question_type": "multiple-choice",
      "image_1": make_image(48, 40, seed=1)}  # fmt: skip
OPEN = {"id": "validation_Math_2", "question": "Area of <image 1>?", "answer": "12", "options": "[]",
        "question_type": "open", "image_1": make_image(40, 40, seed=2)}  # fmt: skip


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_yaml_resolves_and_its_metrics_come_from_process_results(name):
    config = load_task(TASK_DIR / f"{name}.yaml")
    assert config["task"] == name and config["output_type"] == "generate_until"
    metrics = {m["metric"] for m in config["metric_list"]}
    assert {"official_acc", "strict_acc", "strict_no_answer"} <= metrics
    doc = MC if name.startswith("mmmu") else {
        "pid": "1", "question": "x?", "query": "Question: x?", "choices": None, "answer": "12", "precision": None,
        "question_type": "free_form", "answer_type": "integer", "decoded_image": make_image(30, 20), "metadata": {},
    }  # fmt: skip
    out = config["process_results"](doc, ["12"])
    assert metrics == set(out), (
        "every flag count process_results returns is listed in the yaml (lmms-eval reports unlisted ones as [])"
    )
    messages = config["doc_to_messages"](doc)
    kinds = [part["type"] for part in messages[0]["content"]]
    assert kinds == ["image", "text"] and messages[0]["content"][0]["url"].size == doc.get("image_1", doc.get(
        "decoded_image")).size  # fmt: skip
    json.dumps({k: v for k, v in out.items()})  # logged samples must serialise (images dropped)


def test_mmmu_process_results_keeps_both_verdicts_and_flags():
    # hand-derived from the official MMMU parser: "B" is letter B; "no idea" has no candidate -> random letter
    right = bridge.mmmu_process_results(MC, ["B"])
    assert right["official_acc"]["correct"] and right["strict_acc"]["correct"]
    assert right["official_acc"]["extracted"] == right["strict_acc"]["extracted"] == "B"
    unsure = bridge.mmmu_process_results(MC, ["no idea"])
    assert unsure["official_acc"]["flags"] == ["random_guess"] and unsure["official_random_guess"] == 1
    assert unsure["strict_acc"] == {**unsure["strict_acc"], "correct": False, "extracted": None,
                                    "flags": ["no_answer"]} and unsure["strict_no_answer"] == 1  # fmt: skip
    assert "image_1" not in unsure["strict_acc"]["doc"]
    # open question: official substring match accepts "The area is 12 square units", strict reads no final answer
    wordy = bridge.mmmu_process_results(OPEN, ["The area is 12 square units.\nSo it is large"])
    assert wordy["official_acc"]["correct"] and not wordy["strict_acc"]["correct"]


def test_aggregations_over_samples():
    samples = [bridge.mmmu_process_results(MC, [r]) for r in ("B", "A", "Answer: B", "no idea")]
    # strict: B, A(wrong), B, none -> 2/4; flags: one no_answer
    assert bridge.accuracy([s["strict_acc"] for s in samples]) == 0.5
    assert bridge.count([s["strict_no_answer"] for s in samples]) == 1
    assert bridge.accuracy([]) == 0.0


def test_local_task_yaml_includes_the_shipped_one(tmp_path):
    tasks = write_local_tasks(tmp_path, max_new_tokens=8)
    config = load_task(tasks / "mathvista_local.yaml")
    assert config["dataset_path"] == str(tmp_path / "mathvista_local")
    assert config["generation_kwargs"]["max_new_tokens"] == 8
    assert config["process_results"] is bridge.mathvista_process_results


def test_yamls_are_package_data():
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["mmreason"]
    for path in TASK_DIR.glob("*.yaml"):
        relative = str(path.relative_to(ROOT / "mmreason"))
        assert any(fnmatch.fnmatch(relative, glob) for glob in globs), relative


def test_lmms_extra_admits_the_torchvision_of_torch_2_13_and_2_14_and_filelock_3():
    # measured: unconstrained, pip installs filelock 4 (lmms-eval 0.7.3 imports filelock._api, gone in 4);
    # torchvision 0.28.0 requires torch==2.13.0, 0.29.1 torch==2.14.1 (pair first: tests/test_packaging_lmms.py)
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["lmms"]
    reqs = {(r := Requirement(line)).name: r.specifier for line in extra}
    assert "0.28.0" in reqs["torchvision"] and "0.29.1" in reqs["torchvision"] and "0.30.0" not in reqs["torchvision"]
    assert "3.20.0" in reqs["filelock"] and "4.3.1" not in reqs["filelock"]
    assert "0.7.3" in reqs["lmms-eval"]
