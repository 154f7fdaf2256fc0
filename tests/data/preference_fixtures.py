"""Small preference / PUMA corpora written in the released layouts (file names, keys, path conventions).

`write_mmpr(root)` — OpenGVLab/MMPR-v1.2 after `unzip annotations.zip` (images left zipped):
    meta.json                                   {name: {root, annotation, data_augment, repeat_time, length}},
                                                paths relative to the folder above (`MMPR-v1.2/...`), as released
    MMPR-v1.2/annotations/<name>.jsonl          {"image", "question", "chosen", "rejected"[, "answer_gt"]}
    images.zip                                  members `images/<Dataset>/<file>` (the `MMPR-v1.2/` prefix absent)
    MMPR-v1.2/images/TextVQA/...                one dataset's images extracted as loose files instead

`write_math_puma(root)` — a `Math-PUMA_Data_Stage2/Synthesis` folder:
    train.json                                  JSON array of {image_url, instruction, output, *_2}
    images.tar.gz                               members `images/<file>`; the JSON names them by absolute paths
                                                of the authors' machine (`/mnt/bn/.../Synthesis/images/<file>`)
"""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from pathlib import Path

from .corpus_fixtures import jpeg

CORRUPT = b"\xff\xd8 not really a jpeg"


def _zip(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def _tar_gz(path: Path, members: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


def _jsonl(path: Path, records: list) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in records))


MMPR_GEOQA = [
    {"image": "geo/1.jpg", "question": "Find x.", "chosen": "x = 3.\nFinal answer: 3",
     "rejected": "x = 5.\nFinal answer: 5", "answer_gt": "3"},
    {"image": ["geo/1.jpg", "geo/2.jpg"], "question": "Image-1: <image>\nImage-2: <image>\nWhich is larger?",
     "chosen": "The first.", "rejected": "The second.", "answer_gt": "A"},
    {"image": "geo/absent.jpg", "question": "<image>\nQ?", "chosen": "a", "rejected": "b"},  # missing_image
    {"image": "geo/bad.jpg", "question": "Q?", "chosen": "a", "rejected": "b"},  # corrupt_image
    {"image": "geo/2.jpg", "question": "Q?", "chosen": "same", "rejected": "same"},  # identical_completions
]  # fmt: skip
MMPR_TEXTVQA = [
    {"image": "train_images/t1.jpg", "question": "<image>\nWhat does the sign say?", "chosen": "STOP",
     "rejected": "GO"},
]  # fmt: skip
MMPR_TEXT = [{"question": f"Question {i}?", "chosen": f"good {i}", "rejected": f"bad {i}"} for i in range(10)]


def write_mmpr(root: Path, text_repeat: float = 0.5, geoqa_repeat: float = 2) -> dict[str, bytes]:
    """An MMPR folder (see the module docstring); returns the image bytes by their path under each dataset root."""
    images = {"geo/1.jpg": jpeg(1), "geo/2.jpg": jpeg(2), "train_images/t1.jpg": jpeg(3)}
    meta = {
        "geoqa_pairs_vqa_correctness_rules": {
            "root": "MMPR-v1.2/images/GeoQA", "annotation": "MMPR-v1.2/annotations/geoqa.jsonl",
            "data_augment": False, "repeat_time": geoqa_repeat, "length": len(MMPR_GEOQA),
        },
        "textvqa_sr0.5_wo_image": {
            "root": "MMPR-v1.2/images/TextVQA", "annotation": "MMPR-v1.2/annotations/textvqa.jsonl",
            "data_augment": False, "repeat_time": 1, "length": 1,
        },
        "text_only_pairs": {
            "root": "", "annotation": "MMPR-v1.2/annotations/text_only.jsonl",
            "data_augment": False, "repeat_time": text_repeat, "length": len(MMPR_TEXT),
        },
    }  # fmt: skip
    root.mkdir(parents=True, exist_ok=True)
    (root / "meta.json").write_text(json.dumps(meta, indent=4))
    _jsonl(root / "MMPR-v1.2/annotations/geoqa.jsonl", MMPR_GEOQA)
    _jsonl(root / "MMPR-v1.2/annotations/textvqa.jsonl", MMPR_TEXTVQA)
    _jsonl(root / "MMPR-v1.2/annotations/text_only.jsonl", MMPR_TEXT)
    _zip(root / "images.zip", {
        "images/GeoQA/geo/1.jpg": images["geo/1.jpg"], "images/GeoQA/geo/2.jpg": images["geo/2.jpg"],
        "images/GeoQA/geo/bad.jpg": CORRUPT,
    })  # fmt: skip
    loose = root / "MMPR-v1.2/images/TextVQA/train_images"
    loose.mkdir(parents=True)
    (loose / "t1.jpg").write_bytes(images["train_images/t1.jpg"])
    return images


AUTHOR_ROOT = "/mnt/bn/gmma/datasets/Math-PUMA_Data_Stage2/Synthesis"
PUMA_RECORDS = [
    {"image_url": f"{AUTHOR_ROOT}/images/1_text.png", "instruction": "In triangle ABC, angle A = 50. Find B.",
     "output": "B = 70.\nThe answer is 70", "image_url_2": f"{AUTHOR_ROOT}/images/1_vision.png",
     "instruction_2": "Find B.", "output_2": "B = 70.\nThe answer is 70"},
    {"image_url": "", "instruction": "The function f(x) = 2x + 1. What is f(2)?", "output": "f(2) = 5",
     "image_url_2": f"{AUTHOR_ROOT}/images/2_vision.png", "instruction_2": "What is f(2)?", "output_2": "f(2) = 5"},
    {"image_url": "", "instruction": "Q?", "output": "4", "image_url_2": f"{AUTHOR_ROOT}/images/2_vision.png",
     "instruction_2": "Q?", "output_2": "5"},  # answer_mismatch
    {"image_url": "", "instruction": "Q?", "output": " ", "image_url_2": f"{AUTHOR_ROOT}/images/2_vision.png",
     "instruction_2": "Q?", "output_2": " "},  # empty_answer
    {"image_url": "", "instruction": "Q?", "output": "4"},  # no _2 keys: malformed
    {"image_url": "", "instruction": "Q?", "output": "4", "image_url_2": f"{AUTHOR_ROOT}/images/none.png",
     "instruction_2": "Q?", "output_2": "4"},  # missing_image
]  # fmt: skip
PUMA_DROPS = {
    "train-2": "answer_mismatch",
    "train-3": "empty_answer",
    "train-4": "malformed",
    "train-5": "missing_image",
}


def write_math_puma(root: Path) -> dict[str, bytes]:
    """A Stage-2 `Synthesis` folder (see the module docstring); returns the image bytes by file name."""
    images = {"1_text.png": jpeg(11), "1_vision.png": jpeg(12), "2_vision.png": jpeg(13)}
    root.mkdir(parents=True, exist_ok=True)
    (root / "train.json").write_text(json.dumps(PUMA_RECORDS, indent=2))
    _tar_gz(root / "images.tar.gz", {f"images/{name}": data for name, data in images.items()})
    return images
