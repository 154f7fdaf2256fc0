"""`auto_map` checkpoints: load with trust_remote_code and train with the stock `trl sft` CLI, no mmreason."""

import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch
from datasets.table import embed_table_storage

from mmreason.data import load_sample_dataset
from mmreason.model.convert import convert_checkpoint


@pytest.fixture(scope="module")
def remote(tmp_path_factory, tiny):
    model, processor = tiny
    root = tmp_path_factory.mktemp("remote")
    model.save_pretrained(root / "native")
    processor.save_pretrained(root / "native")
    convert_checkpoint(root / "native", root / "remote", to="mmreason", remote_code=True)
    shadow = root / "shadow" / "mmreason"  # makes `import mmreason` fail in the subprocesses
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('mmreason must not be needed to load this checkpoint')\n")
    return root


def _env(root):
    return {**os.environ, "PYTHONPATH": str(root / "shadow"), "HF_HUB_OFFLINE": "1"}


def test_auto_map_written_and_code_copied(remote):
    config = json.loads((remote / "remote" / "config.json").read_text())
    assert config["auto_map"]["AutoModelForImageTextToText"] == "modeling_mmreason.MMReasonForConditionalGeneration"
    processor = json.loads((remote / "remote" / "processor_config.json").read_text())
    assert processor["auto_map"]["AutoProcessor"] == "processing_mmreason.MMReasonProcessor"
    assert (remote / "remote" / "modeling_mmreason.py").exists()
    # registration for the export must not leak into later ordinary saves
    assert "auto_map" not in json.loads((remote / "native" / "config.json").read_text())


def test_trust_remote_code_loads_without_mmreason(remote, tiny, tmp_path):
    model, processor = tiny
    out = tmp_path / "logits.pt"
    script = textwrap.dedent(f"""
        import torch
        from PIL import Image
        from transformers import AutoModelForImageTextToText, AutoProcessor
        path = {str(remote / "remote")!r}
        model = AutoModelForImageTextToText.from_pretrained(path, trust_remote_code=True)
        processor = AutoProcessor.from_pretrained(path, trust_remote_code=True)
        assert type(model).__module__.startswith("transformers_modules"), type(model)
        inputs = processor(text="<image>\\nQ", images=[Image.new("RGB", (40, 30), (200, 10, 10))], return_tensors="pt")
        with torch.no_grad():
            torch.save(model(**inputs).logits, {str(out)!r})
    """)
    subprocess.run([sys.executable, "-c", script], check=True, env=_env(remote), timeout=300)
    from PIL import Image

    inputs = processor(text="<image>\nQ", images=[Image.new("RGB", (40, 30), (200, 10, 10))], return_tensors="pt")
    with torch.no_grad():
        expected = model(**inputs).logits
    torch.testing.assert_close(torch.load(out), expected, atol=1e-5, rtol=0)


def test_stock_trl_sft_cli_trains_an_auto_map_checkpoint(remote, tmp_path):
    data = tmp_path / "data"
    dataset = load_sample_dataset().with_format("arrow").map(embed_table_storage, batched=True).with_format(None)
    dataset.to_parquet(str(data / "data" / "train-00000-of-00001.parquet"))  # images embedded as bytes
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        textwrap.dedent(f"""
        model_name_or_path: {remote / "remote"}
        trust_remote_code: true
        dataset_name: {data}
        output_dir: {tmp_path / "out"}
        max_steps: 2
        per_device_train_batch_size: 2
        max_length: null
        assistant_only_loss: true
        use_cpu: true
        bf16: false
        gradient_checkpointing: false
        report_to: none
        save_strategy: "no"
        logging_steps: 1
    """)
    )
    trl = [sys.executable, "-c", "import sys; from trl.cli import main; sys.argv[0] = 'trl'; sys.exit(main())"]
    result = subprocess.run(
        [*trl, "sft", "--config", str(recipe)],
        capture_output=True,
        text=True,
        env=_env(remote),
        cwd=tmp_path,
        timeout=600,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    assert "'loss'" in log and "Training completed" in log
    assert (tmp_path / "out" / "modeling_mmreason.py").exists()
