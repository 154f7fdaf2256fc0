"""Local lmms-eval task folders on mmreason's tasks: a tiny MathVista and MMMU copy plus task yamls that include
the shipped ones and point `dataset_path` at the local data (what `.ci/lmms_check.sh` and the tests use)."""

from pathlib import Path

import datasets

from mmreason.eval.lmms_tasks import TASK_DIR
from mmreason.testing import make_image

from .fixtures import write_mathvista

#: (id, question, options, answer, question_type)
MMMU_ROWS = [
    ("validation_Art_Theory_1", "Which style is shown in <image 1>?", ["Baroque", "Cubism", "Gothic"], "B",
     "multiple-choice"),
    ("validation_Math_1", "What is the area in <image 1>?", [], "12", "open"),
    ("validation_Physics_1", "Which force acts in <image 1>?", ["gravity", "friction"], "A", "multiple-choice"),
]  # fmt: skip


def write_mmmu(folder: Path) -> Path:
    """`folder/data/validation-00000-of-00001.parquet` with lmms-lab-encoder/MMMU's fields (`image_1`..)."""
    rows = [
        {"id": rid, "question": question, "options": str(options), "answer": answer, "question_type": kind,
         "image_1": make_image(48, 40, seed=i), "image_2": None, "subfield": "", "explanation": ""}
        for i, (rid, question, options, answer, kind) in enumerate(MMMU_ROWS)
    ]  # fmt: skip
    (folder / "data").mkdir(parents=True, exist_ok=True)
    features = datasets.Dataset.from_list([{k: v for k, v in r.items() if k != "image_2"} for r in rows]).features
    features = datasets.Features({**features, "image_1": datasets.Image(), "image_2": datasets.Image()})
    dataset = datasets.Dataset.from_list(rows, features=features)
    dataset.to_parquet(str(folder / "data" / "validation-00000-of-00001.parquet"))
    return folder


def write_local_tasks(root: Path, max_new_tokens: int = 16) -> Path:
    """`root/tasks/*.yaml`: `mathvista_local` and `mmmu_local`, the shipped tasks on local data; returns the folder
    to pass to `--include_path`."""
    tasks = root / "tasks"
    tasks.mkdir(parents=True, exist_ok=True)
    for name, shipped, writer in (
        ("mathvista_local", "mathvista_testmini_mmreason", write_mathvista),
        ("mmmu_local", "mmmu_val_mmreason", write_mmmu),
    ):
        data = writer(root / name)
        (tasks / f"{name}.yaml").write_text(
            f"include: {TASK_DIR / shipped}.yaml\ntask: {name}\ntag: mmreason_local\ndataset_path: {data}\n"
            f"generation_kwargs:\n  max_new_tokens: {max_new_tokens}\n  temperature: 0\n  do_sample: false\n"
        )
    return tasks
