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
