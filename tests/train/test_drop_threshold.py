"""A training run whose sample hygiene keeps no rows, or drops more than `max_drop_fraction` of them, stops before
training with the per-reason counts and the drop report's path (issue #19 item 3, training part)."""

import json

import datasets
import pytest

from mmreason.data import FEATURES
from mmreason.data.prepare import TooManyDropsError
from mmreason.testing import build_tiny
from mmreason.train import RationaleSFTConfig, RationaleSFTTrainer

from .helpers import mixed_rows


def _text(text):
    return {"type": "text", "text": text}


def _malformed(i):
    """A text part whose text is `None`: the chat template would crash on it (reason `malformed`)."""
    return {"id": f"malformed-{i}", "source": "test", "category": "text_only", "quality_group": "", "images": [],
            "videos": [], "messages": [{"role": "user", "content": [_text(None)]},
                                       {"role": "assistant", "content": [_text("4")]}]}  # fmt: skip


def _missing_image(i):
    """An image placeholder without an image (reason `image_count_mismatch`)."""
    return {"id": f"noimage-{i}", "source": "test", "category": "single_image", "quality_group": "", "images": [],
            "videos": [], "messages": [
                {"role": "user", "content": [{"type": "image", "text": None}, _text("What is shown?")]},
                {"role": "assistant", "content": [_text("A chart.")]}]}  # fmt: skip


def _dataset(bad_malformed, bad_image):
    good = mixed_rows(1)  # 9 rows the tiny model trains on (no length budget)
    rows = good + [_malformed(i) for i in range(bad_malformed)] + [_missing_image(i) for i in range(bad_image)]
    return datasets.Dataset.from_list(rows, features=FEATURES), len(good)


def _args(tmp_path, **kwargs):
    return RationaleSFTConfig(
        output_dir=str(tmp_path), use_cpu=True, bf16=False, report_to="none", save_strategy="no", max_steps=1,
        per_device_train_batch_size=2, max_length=None, dataloader_num_workers=0, **kwargs,
    )  # fmt: skip


@pytest.fixture(scope="module")
def tiny():
    return build_tiny(seed=3)


def test_more_than_half_dropped_stops_before_training(tmp_path, tiny):
    model, processor = tiny
    dataset, good = _dataset(6, 4)  # 10 of 19 rows dropped: 53% > the default 0.5
    assert good == 9
    with pytest.raises(TooManyDropsError) as caught:
        RationaleSFTTrainer(model=model, args=_args(tmp_path), train_dataset=dataset, processing_class=processor)
    message = str(caught.value)
    report = tmp_path / "dropped_samples.jsonl"
    assert "kept 9 of 19 rows, dropped 10 (53%, more than --max_drop_fraction 0.5)" in message
    assert "{'malformed': 6, 'image_count_mismatch': 4}" in message
    assert f"every dropped row and why: {report}" in message and "\n" not in message
    logged = [json.loads(line) for line in report.read_text().splitlines()]
    assert sorted(d["id"] for d in logged) == sorted([f"malformed-{i}" for i in range(6)] +
                                                     [f"noimage-{i}" for i in range(4)])  # fmt: skip
    assert not any(tmp_path.glob("checkpoint-*"))


def test_the_threshold_is_the_users(tmp_path, tiny):
    model, processor = tiny
    dataset, good = _dataset(6, 4)
    args = _args(tmp_path, max_drop_fraction=0.6)
    trainer = RationaleSFTTrainer(model=model, args=args, train_dataset=dataset, processing_class=processor)
    assert len(trainer.train_dataset) == good
    assert trainer.dropped_samples == {"malformed": 6, "image_count_mismatch": 4}


def test_exactly_the_fraction_is_allowed(tmp_path, tiny):
    """ "More than" the fraction stops, as in `mmreason data prepare` and `validate`: 9 of 18 dropped is 0.5."""
    model, processor = tiny
    dataset, good = _dataset(9, 0)
    trainer = RationaleSFTTrainer(model=model, args=_args(tmp_path), train_dataset=dataset, processing_class=processor)
    assert len(trainer.train_dataset) == good == 9


def test_no_row_kept_stops_even_at_fraction_one(tmp_path, tiny):
    model, processor = tiny
    dataset = datasets.Dataset.from_list([_malformed(0), _missing_image(0), _missing_image(1)], features=FEATURES)
    args = _args(tmp_path, max_drop_fraction=1.0)
    with pytest.raises(TooManyDropsError, match=r"kept 0 of 3 rows, dropped 3 \(100%, no row left to train on\) "
                                                r"\{'image_count_mismatch': 2, 'malformed': 1\}"):  # fmt: skip
        RationaleSFTTrainer(model=model, args=args, train_dataset=dataset, processing_class=processor)


@pytest.mark.parametrize("fraction", [-0.1, 1.5])
def test_fraction_outside_zero_one_is_refused(tmp_path, fraction):
    with pytest.raises(ValueError, match="max_drop_fraction must be between 0 and 1"):
        _args(tmp_path, max_drop_fraction=fraction)
