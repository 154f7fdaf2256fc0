"""Rows the chat template refuses are dropped and reported by hygiene, not crashed on in the collator."""

import datasets

from mmreason.data import FEATURES
from mmreason.train import RationaleSFTConfig, RationaleSFTTrainer

from .helpers import mixed_rows


def test_none_text_row_is_dropped_as_malformed(tiny, tmp_path):
    model, processor = tiny
    rows = mixed_rows(1)[:3]
    bad = {**rows[2], "id": "none-text", "images": [], "messages": [
        {"role": "user", "content": [{"type": "text", "text": "Q"}]},
        {"role": "assistant", "content": [{"type": "text", "text": None}]},  # used to train on the word "None"
    ]}  # fmt: skip
    dataset = datasets.Dataset.from_list([*rows, bad], features=FEATURES)
    args = RationaleSFTConfig(output_dir=str(tmp_path), use_cpu=True, bf16=False, report_to="none", max_length=None)
    trainer = RationaleSFTTrainer(model=model, args=args, train_dataset=dataset, processing_class=processor)
    assert len(trainer.train_dataset) == 3
    assert trainer.dropped_samples.get("malformed") == 1
