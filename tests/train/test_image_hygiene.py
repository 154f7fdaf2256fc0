"""SFT hygiene drops (and reports) images that pass a header check but would crash the collator or decoding."""

import io
import json

import datasets

from mmreason.data import FEATURES
from mmreason.testing import make_image
from mmreason.train import RationaleSFTConfig, RationaleSFTTrainer

from ..model import png_bytes
from .helpers import mixed_rows


def _bad_row(row_id: str, data: bytes) -> dict:
    return {
        "id": row_id, "source": "test", "category": "single_image", "quality_group": "", "videos": [],
        "images": [{"bytes": data, "path": f"{row_id}.img"}],
        "messages": [
            {"role": "user", "content": [{"type": "image", "text": None}, {"type": "text", "text": "What is it?"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "A square."}]},
        ],
    }  # fmt: skip


def test_truncated_and_16_bit_images_are_dropped_before_training(tmp_path, tiny):
    model, processor = tiny
    png, jpeg = io.BytesIO(), io.BytesIO()
    make_image(200, 120, seed=1).save(png, format="PNG")
    make_image(200, 120, seed=2).save(jpeg, format="JPEG")
    bad = {
        "truncated_png": png.getvalue()[:-3000],
        "truncated_jpeg": jpeg.getvalue()[:2000],
        "gray16_png": png_bytes.gray16(64, 48, 50_000),
    }
    good = mixed_rows(1)
    rows = good + [_bad_row(name, data) for name, data in bad.items()]
    dataset = datasets.Dataset.from_list(rows, features=FEATURES)
    args = RationaleSFTConfig(
        output_dir=str(tmp_path), use_cpu=True, bf16=False, report_to="none", save_strategy="no",
        per_device_train_batch_size=2, max_steps=1, max_length=None, seed=0, dataloader_num_workers=0,
    )  # fmt: skip
    trainer = RationaleSFTTrainer(model=model, args=args, train_dataset=dataset, processing_class=processor)
    assert trainer.dropped_samples == {"corrupt_image": 3}
    assert sorted(trainer.train_dataset["id"]) == sorted(row["id"] for row in good)
    dropped = [json.loads(line) for line in (tmp_path / "dropped_samples.jsonl").read_text().splitlines()]
    assert sorted(d["id"] for d in dropped) == sorted(bad)
    for row in trainer.train_dataset:  # every kept row decodes (datasets) and collates
        assert trainer.data_collator([row])["input_ids"].shape[0] == 1
