"""The bundled sample rows are valid rows of mmreason's format."""

from PIL import Image

from mmreason.data import load_sample_dataset


def test_sample_rows_have_matching_placeholders_and_images():
    dataset = load_sample_dataset()
    assert len(dataset) == 8
    kinds = set()
    for row in dataset:
        placeholders = sum(part["type"] == "image" for m in row["messages"] for part in m["content"])
        assert placeholders == len(row["images"])
        assert all(isinstance(image, Image.Image) for image in row["images"])
        assert [m["role"] for m in row["messages"]] == ["user", "assistant"]
        kinds.add(min(len(row["images"]), 2))
    assert kinds == {0, 1, 2}  # text-only, single-image and multi-image rows
