"""Small canonical datasets for the training tests."""

import datasets

from mmreason.data import FEATURES, load_sample_dataset
from mmreason.testing import make_image


def mixed_rows(repeat: int = 2) -> list[dict]:
    """The bundled sample rows (single-image, multi-image, text-only) plus a long wide-image rationale."""
    rows = [dict(row) for row in load_sample_dataset()] * repeat
    long_answer = "Step by step: " + "the area grows by a factor of four. " * 12 + "\nAnswer: 4"
    rows.append({
        "id": "long", "source": "test", "category": "single_image", "quality_group": "", "videos": [],
        "images": [make_image(150, 60, seed=7)],
        "messages": [
            {"role": "user", "content": [{"type": "image", "text": None}, {"type": "text", "text": "How much?"}]},
            {"role": "assistant", "content": [{"type": "text", "text": long_answer}]},
        ],
    })  # fmt: skip
    return rows


def mixed_dataset(repeat: int = 2) -> datasets.Dataset:
    return datasets.Dataset.from_list(mixed_rows(repeat), features=FEATURES)
