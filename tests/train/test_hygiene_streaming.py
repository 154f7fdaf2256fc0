"""Drops of an iterable dataset are counted and reported across dataloader worker processes; only the process asked
to write the report (rank 0) writes it."""

import json

import datasets

from mmreason.data import FEATURES
from mmreason.data.validate import RowValidator
from mmreason.train import RationaleSFTConfig, RationaleSFTTrainer
from mmreason.train.collator import MultimodalSFTCollator
from mmreason.train.hygiene import drop_untrainable

from .helpers import mixed_rows


def _budget(processor):
    lengths = [len(MultimodalSFTCollator(processor)([row])["input_ids"][0]) for row in mixed_rows(1)]
    budget = sorted(lengths)[len(lengths) // 2]
    return budget, sum(n > budget for n in lengths)


def test_streaming_drops_survive_dataloader_workers(tmp_path, tiny):
    model, processor = tiny
    budget, over = _budget(processor)
    stream = datasets.Dataset.from_list(mixed_rows(1), features=FEATURES).to_iterable_dataset(num_shards=2)
    args = RationaleSFTConfig(
        output_dir=str(tmp_path), use_cpu=True, bf16=False, report_to="none", max_length=budget, max_steps=1,
        per_device_train_batch_size=2, dataloader_num_workers=2,
    )  # fmt: skip
    trainer = RationaleSFTTrainer(model=model, args=args, train_dataset=stream, processing_class=processor)
    kept = sum(len(batch["input_ids"]) for batch in trainer.get_train_dataloader())  # one pass, in 2 workers
    assert kept == len(mixed_rows(1)) - over
    assert dict(trainer.dropped_samples) == {"over_length": over}
    dropped = [json.loads(line) for line in (tmp_path / "dropped_samples.jsonl").read_text().splitlines()]
    assert len(dropped) == over and all(d["reasons"] == ["over_length"] for d in dropped)


def test_only_the_reporting_rank_writes(tmp_path, tiny):
    _, processor = tiny
    budget, over = _budget(processor)
    validator = RowValidator(processor, budget)
    dataset = datasets.Dataset.from_list(mixed_rows(1), features=FEATURES)
    kept, _, counts = drop_untrainable(dataset, validator, output_dir=str(tmp_path / "other"), write_report=False)
    assert counts == {"over_length": over} and len(kept) == len(dataset) - over
    assert not (tmp_path / "other").exists()
    drop_untrainable(dataset, validator, output_dir=str(tmp_path / "main"), write_report=True)
    assert len((tmp_path / "main" / "dropped_samples.jsonl").read_text().splitlines()) == over
