"""Every recipe in examples/recipes parses with `TrlParser` and trains as written on a CPU (tiny model; only the
model path, dataset, max_steps and output_dir are overridden)."""

from pathlib import Path

import datasets
import pytest
from safetensors import safe_open

from mmreason.cli.sft import make_parser, run
from mmreason.data import FEATURES
from mmreason.testing import build_tiny, make_image
from tests.train.helpers import mixed_rows

# the SFT recipes (PUMA, MPO/RPO and GRPO have their own commands and tests: test_puma.py, test_mpo.py, test_grpo.py)
RECIPES = sorted(
    path
    for path in (Path(__file__).resolve().parents[2] / "examples" / "recipes").glob("*.yaml")
    if not path.stem.startswith(("puma", "mpo", "rpo", "grpo"))
)


def _caption_rows(count: int) -> list[dict]:
    return [
        {"id": f"cap-{i}", "source": "test", "category": "single_image", "quality_group": "", "videos": [],
         "images": [make_image(40 + 3 * i, 30 + i, seed=i)],
         "messages": [{"role": "user", "content": [{"type": "image", "text": None}]},
                      {"role": "assistant", "content": [{"type": "text", "text": f"A picture with {i} shapes."}]}]}
        for i in range(count)
    ]  # fmt: skip


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A tiny checkpoint; a Parquet folder with the configs the recipes name (si, ov, conversation) and a caption
    folder without configs (pretrain)."""
    root = tmp_path_factory.mktemp("recipes")
    model, processor = build_tiny(seed=6)
    model.save_pretrained(root / "tiny")
    processor.save_pretrained(root / "tiny")
    rows = datasets.Dataset.from_list(mixed_rows(4), features=FEATURES)
    card = "---\nconfigs:\n"
    for config in ("si", "ov", "conversation"):
        rows.to_parquet(str(root / "data" / config / "train.parquet"))
        card += f"- config_name: {config}\n  data_files:\n  - split: train\n    path: {config}/*.parquet\n"
    (root / "data" / "README.md").write_text(card + "---\n")
    captions = datasets.Dataset.from_list(_caption_rows(20), features=FEATURES)
    captions.to_parquet(str(root / "captions" / "train.parquet"))
    return root


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda path: path.stem)
def test_recipe_runs_on_cpu_as_written(workspace, recipe, tmp_path):
    dataset = workspace / ("captions" if recipe.stem == "pretrain" else "data")
    out = tmp_path / "out"
    script_args, training_args, model_args = make_parser().parse_args_and_config(
        ["--config", str(recipe), "--model_name_or_path", str(workspace / "tiny"), "--dataset_name", str(dataset),
         "--max_steps", "1", "--output_dir", str(out)]
    )  # fmt: skip
    assert training_args.activation_checkpointing is True and not training_args.bf16  # CPU: fp32 mixed precision
    run(script_args, training_args, model_args)
    weights = out / ("adapter_model.safetensors" if model_args.use_peft else "model.safetensors")
    with safe_open(str(weights), "pt") as handle:
        names = list(handle.keys())
    assert names
    if model_args.use_peft:
        assert "base_model.model.model.image_newline" in names
