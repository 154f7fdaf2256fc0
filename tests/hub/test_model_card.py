"""mmreason's model card: renders and loads with `huggingface_hub.ModelCard` (strict metadata parsing), carries the
image-text-to-text metadata, and puts complete eval runs (a hand-written `results.json` in the runner's format) in
its `model-index`; the trainers write it in place of TRL's generic card; `mmreason card` writes it for a folder."""

import json
import subprocess
import sys

import pytest
from huggingface_hub import ModelCard
from huggingface_hub.repocard_data import model_index_to_eval_results

from mmreason.hub.model_card import model_card, read_eval_results, training_hyperparameters
from mmreason.testing import build_tiny
from mmreason.train import RationaleSFTConfig, RationaleSFTTrainer
from tests.train.helpers import mixed_dataset

#: an eval runner report as `mmreason eval` writes it (values by hand: 61 of 100 right, strict)
RESULTS = {
    "benchmark": "mathvista", "dataset": "AI4Math/MathVista", "split": "testmini", "model": "m", "rows": 100,
    "answered": 100, "missing": 0, "failed": {}, "complete": True, "partial": [],
    "metrics": {"strict": {"accuracy": 0.61, "count": 100}, "official": {"accuracy": None, "count": 0}},
}  # fmt: skip


@pytest.fixture
def eval_dir(tmp_path):
    folder = tmp_path / "eval" / "mathvista"
    folder.mkdir(parents=True)
    (folder / "results.json").write_text(json.dumps(RESULTS))
    partial = tmp_path / "eval" / "procedural"
    partial.mkdir()
    (partial / "results.json").write_text(json.dumps({**RESULTS, "benchmark": "procedural", "complete": False,
                                                      "dataset": "mmreason/procedural"}))  # fmt: skip
    return tmp_path / "eval"


def test_card_loads_strictly_with_metadata_and_model_index(eval_dir, tmp_path):
    rows = read_eval_results([eval_dir])
    assert [(r.benchmark, r.mode, r.value, r.complete) for r in rows] == [
        ("mathvista", "strict", 61.0, True),
        ("procedural", "strict", 61.0, False),
    ]  # official undecided: no row
    card = model_card("my-vl", recipe="rationale SFT", base_model="Qwen/Qwen2.5-7B-Instruct",
                      datasets=["MAmmoTH-VL/MAmmoTH-VL-Instruct-12M", "/local/folder"], eval_rows=rows,
                      hyperparameters={"learning_rate": 1e-5}, repo_id="me/my-vl")  # fmt: skip
    card.save(tmp_path / "README.md")
    loaded = ModelCard.load(tmp_path / "README.md", ignore_metadata_errors=False)
    data = loaded.data.to_dict()
    assert data["pipeline_tag"] == "image-text-to-text" and data["library_name"] == "transformers"
    assert data["base_model"] == "Qwen/Qwen2.5-7B-Instruct"
    assert data["datasets"] == ["MAmmoTH-VL/MAmmoTH-VL-Instruct-12M"] and "license" not in data
    name, results = model_index_to_eval_results(data["model-index"])
    assert name == "my-vl" and len(results) == 1  # the partial run is in the table only
    assert (results[0].dataset_type, results[0].dataset_split, results[0].metric_value) == (
        "AI4Math/MathVista", "testmini", 61.0)  # fmt: skip
    text = loaded.text
    assert "| mathvista | testmini | strict | 61.00 | 100 |" in text and "61.00 | 100 (partial) |" in text
    assert 'AutoModelForImageTextToText.from_pretrained("me/my-vl"' in text and "| `learning_rate` | `1e-05` |" in text


def test_sft_trainer_writes_the_mmreason_card_not_trls(tmp_path):
    model, processor = build_tiny(seed=1)
    args = RationaleSFTConfig(
        output_dir=str(tmp_path / "run"), use_cpu=True, bf16=False, report_to="none", save_strategy="no",
        per_device_train_batch_size=2, max_steps=1, max_length=None, dataloader_num_workers=0, learning_rate=1e-3,
    )  # fmt: skip
    trainer = RationaleSFTTrainer(model=model, args=args, train_dataset=mixed_dataset(1), processing_class=processor)
    trainer.train()
    trainer.save_model(str(tmp_path / "saved"))
    card = ModelCard.load(tmp_path / "saved" / "README.md", ignore_metadata_errors=False)
    assert card.data.pipeline_tag == "image-text-to-text"
    assert "rationale SFT" in card.text and "fine-tuned version of [None]" not in card.text
    assert "| `max_steps` | `1` |" in card.text and "num_train_epochs" not in card.text
    assert training_hyperparameters(args)["learning_rate"] == 1e-3
    from mmreason.cli.card import _trainer_facts

    recipe, hyperparameters = _trainer_facts(tmp_path / "saved")  # what `mmreason card` reads back from the folder
    assert recipe == RationaleSFTTrainer.card_recipe and hyperparameters["max_steps"] == 1


def test_card_command_writes_the_card_and_copies_eval_results(eval_dir, tmp_path):
    model, processor = build_tiny(seed=2)
    folder = tmp_path / "ckpt"
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    (eval_dir / "mathvista" / ".eval_results").mkdir()
    (eval_dir / "mathvista" / ".eval_results" / "mathvista.yaml").write_text("- value: 61.0\n")
    done = subprocess.run([sys.executable, "-m", "mmreason.cli", "card", "--model_dir", str(folder),
                           "--eval_results", str(eval_dir), "--base_model", "Qwen/Qwen2.5-0.5B"],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "(2 eval results)" in done.stdout
    card = ModelCard.load(folder / "README.md", ignore_metadata_errors=False)
    assert card.data.base_model == "Qwen/Qwen2.5-0.5B" and len(card.data.eval_results) == 1
    assert (folder / ".eval_results" / "mathvista.yaml").read_text() == "- value: 61.0\n"
