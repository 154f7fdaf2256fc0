"""Small preference datasets (the agreed preference-row form) and tiny models for the MPO tests."""

import datasets

from mmreason.testing import make_image


def _user(text: str, images: int) -> list[dict]:
    content = [{"type": "image", "text": None}] * images + [{"type": "text", "text": text}]
    return [{"role": "user", "content": content}]


def _assistant(text: str) -> list[dict]:
    return [{"role": "assistant", "content": [{"type": "text", "text": text}]}]


def preference_rows(count: int = 8) -> list[dict]:
    """`count` pairs: one image (square or wide), two images, or none; chosen/rejected of different lengths."""
    rows = []
    for index in range(count):
        images = [make_image(40 + 17 * index, 32 + 5 * (index % 3), seed=index)][: index % 3 != 2]
        if index % 4 == 1:
            images.append(make_image(24, 48, seed=100 + index))
        rows.append({
            "id": f"pair-{index}", "source": "test",
            "prompt": _user(f"Question {index}: how many shapes?" + " Think." * (index % 3), len(images)),
            "chosen": _assistant(f"Step by step, there are {index + 2} shapes.\nFinal answer: {index + 2}"),
            "rejected": _assistant(f"There are {index} shapes." + " Maybe." * (index % 2)),
            "images": images, "answer_gt": str(index + 2),
        })  # fmt: skip
    return rows


def preference_features() -> datasets.Features:
    part = {"type": datasets.Value("string"), "text": datasets.Value("string")}
    messages = datasets.List({"role": datasets.Value("string"), "content": datasets.List(part)})
    string = datasets.Value("string")
    return datasets.Features({
        "id": string, "source": string, "prompt": messages, "chosen": messages, "rejected": messages,
        "images": datasets.List(datasets.Image()), "answer_gt": string,
    })  # fmt: skip


def preference_dataset(count: int = 8) -> datasets.Dataset:
    return datasets.Dataset.from_list(preference_rows(count), features=preference_features())
