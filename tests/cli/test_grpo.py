"""`mmreason grpo` as a subprocess on procedural prompt rows: trains, saves a checkpoint that reloads through the
Auto classes with mmreason's card; the recipe in examples/recipes parses, with the flags overriding it."""

import subprocess
import sys
from pathlib import Path

import pytest

from mmreason.data import procedural
from mmreason.testing import build_tiny

RECIPE = Path(__file__).resolve().parents[2] / "examples" / "recipes" / "grpo_procedural.yaml"


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("grpo")
    model, processor = build_tiny(seed=5)
    model.save_pretrained(root / "model")
    processor.save_pretrained(root / "model")
    procedural.save(root / "data", seed=0, n_train=4, n_test=1, families=["bars"])
    return root


def test_grpo_trains_saves_and_reloads(setup):
    from huggingface_hub import ModelCard
    from transformers import AutoModelForImageTextToText

    out = setup / "out"
    command = [
        sys.executable, "-m", "mmreason.cli", "grpo", "--config", str(RECIPE),
        "--model_name_or_path", str(setup / "model"), "--dataset_name", str(setup / "data"),
        "--output_dir", str(out), "--max_steps", "2", "--per_device_train_batch_size", "2", "--num_generations", "2",
        "--max_completion_length", "8", "--beta", "0.05", "--use_cpu", "true", "--dataloader_num_workers", "0",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    model = AutoModelForImageTextToText.from_pretrained(out)
    assert type(model).__name__ == "MMReasonForConditionalGeneration"
    card = ModelCard.load(out / "README.md", ignore_metadata_errors=False)
    assert card.data.pipeline_tag == "image-text-to-text" and "GRPO" in card.text
    assert "| `beta` | `0.05` |" in card.text


def test_prompt_rows_carry_what_the_reward_reads():
    problem = procedural.generate(1, seed=3, level="easy", families=["bars"])[0]
    row = procedural.prompt_row(problem, "text")
    assert [m["role"] for m in row["prompt"]] == ["user"] and row["answer"] == problem.answer
    assert row["prompt"][0]["content"][1]["text"] == procedural.prompt_of(problem, "text")
