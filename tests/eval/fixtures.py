"""A small local MathVista-style benchmark folder (the Hub's `AI4Math/MathVista` testmini fields)."""

from pathlib import Path

import datasets

from mmreason.testing import make_image

SHAPES = ["circle", "square", "triangle"]
ROWS = [
    ("1", "What is the value of x?", None, "12", "free_form", "integer", None, "algebraic reasoning"),
    ("2", "Which shape is red?", SHAPES, "square", "multi_choice", "text", None, "figure question answering"),
    ("3", "What is the length of AB?", None, "2.5", "free_form", "float", 1.0, "geometry reasoning"),
    ("4", "How many bars exceed 40?", None, "3", "free_form", "integer", None, "statistical reasoning"),
]


def mathvista_rows() -> list[dict]:
    rows = []
    for pid, question, choices, answer, qtype, atype, precision, skill in ROWS:
        hint = "Hint: Please answer the question and provide the final answer at the end.\n"
        metadata = {
            "category": "math-targeted-vqa",
            "context": "synthetic scene",
            "grade": "high school",
            "language": "english",
            "skills": [skill],
            "source": "toy",
            "split": "testmini",
            "task": skill,
        }
        rows.append({
            "pid": pid, "question": question, "image": f"images/{pid}.jpg",
            "decoded_image": make_image(60, 40, seed=int(pid)), "choices": choices, "unit": None,
            "precision": precision, "answer": answer, "question_type": qtype, "answer_type": atype,
            "query": hint + f"Question: {question}", "metadata": metadata,
        })  # fmt: skip
    return rows


def write_mathvista(folder: Path) -> Path:
    """`folder/data/testmini-00000-of-00001.parquet` (the Hub's layout), so `load_dataset(folder, split="testmini")`
    works."""
    (folder / "data").mkdir(parents=True, exist_ok=True)
    dataset = datasets.Dataset.from_list(mathvista_rows())
    dataset = dataset.cast_column("decoded_image", datasets.Image())
    dataset.to_parquet(str(folder / "data" / "testmini-00000-of-00001.parquet"))
    return folder


def _write(folder: Path, split_rows: dict[str, list[dict]], image_column: str) -> Path:
    """`folder/data/<split>-00000-of-00001.parquet` per split, `image_column` cast to an `Image` feature."""
    (folder / "data").mkdir(parents=True, exist_ok=True)
    for split, rows in split_rows.items():
        dataset = datasets.Dataset.from_list(rows).cast_column(image_column, datasets.Image())
        dataset.to_parquet(str(folder / "data" / f"{split}-00000-of-00001.parquet"))
    return folder


#: We-Math testmini layout: a 2-step problem's two sub-problems and its composite question share `ID`
WEMATH_ANSWERS = {"2steps_1": "A", "2steps_2": "B", "2steps_multi": "C"}


def wemath_rows() -> list[dict]:
    return [
        {"ID": "2steps_1", "split": "testmini", "knowledge concept": "area", "question": f"We-Math question {key}?",
         "option": "A. 1;B. 2;C. 3;D. 4", "answer": answer, "image_path": make_image(40, 30, seed=n), "key": key,
         "question number": n + 1}
        for n, (key, answer) in enumerate(WEMATH_ANSWERS.items())
    ]  # fmt: skip


def write_wemath(folder: Path, rows: list[dict] | None = None) -> Path:
    return _write(folder, {"testmini": rows if rows is not None else wemath_rows()}, "image_path")


def dynamath_truth(seed: int, variant: int) -> str:
    """A different ground truth per variant, so merged variants are visible in the score."""
    return str(10 * seed + variant)


def write_dynamath(folder: Path, seeds: int = 2) -> Path:
    """DynaMath_Sample's layout: splits `sample_variant1..10`, the same `id` for a seed question in every split."""
    split_rows = {
        f"sample_variant{v}": [
            {"id": str(s), "question": f"DynaMath seed {s} variant {v}: what is the value?",
             "decoded_image": make_image(30, 30, seed=s * 10 + v), "ground_truth": dynamath_truth(s, v),
             "answer_type": "free form", "subject": "algebra", "knowledge_level": "high school"}
            for s in range(1, seeds + 1)
        ]
        for v in range(1, 11)
    }  # fmt: skip
    return _write(folder, split_rows, "decoded_image")
