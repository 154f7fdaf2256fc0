"""A reduced `mmreason quickstart` end to end, as a subprocess: every stage ran, the SFT model learned the answer
format on held-out questions, the models load with the Auto classes, the report files exist and parse.

Not asserted (not reached, see examples/docs/quickstart.md "Measured"): SFT accuracy on held-out easy well above
chance. A reduced run (and the default preset, on a loaded 2-core machine) ends at or near the chance and
majority baselines."""

import json
import subprocess
import sys

import pytest
from PIL import Image

#: fewer problems and steps than the `tiny` preset, two families (multiple choice / short answers)
REDUCED = [
    "--families", "length", "bars", "--n_train", "64", "--n_test", "8", "--sft_steps", "200", "--batch_size", "8",
    "--n_pair_questions", "24", "--num_samples", "8", "--mpo_steps", "2", "--puma_steps", "2",
    "--max_new_tokens", "120",
]  # fmt: skip
#: ~1 min of CPU (4 min wall on a 2-core machine under load 9): CI runs it, `-m "not slow"` skips it
pytestmark = pytest.mark.slow

#: held-out SFT answers that must end in a readable "Final answer:" line (a random model: none)
FORMAT_RATE = 0.5


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("quickstart")
    command = [sys.executable, "-m", "mmreason.cli", "quickstart", "--output_dir", str(out), "--seed", "1", *REDUCED]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return out, result


def test_every_stage_ran(run):
    out, result = run
    results = json.loads((out / "results.json").read_text())
    assert set(results["stages"]) == {"sft", "mpo", "puma"}
    assert results["pairs"]["pair_rows"] > 0
    assert set(results["curves"]) == {"sft", "mpo", "puma"} and all(results["curves"].values())
    for stage in ("sft", "mpo", "puma"):
        assert (out / "eval" / stage / "procedural" / "results.json").exists()
        assert f"  {stage}: {out / 'models' / stage}" in result.stdout
    assert list((out / "pairs" / "data").glob("*.parquet"))


def test_sft_learned_the_answer_format_on_held_out_questions(run):
    out, _ = run
    scores = [json.loads(line) for line in (out / "eval" / "sft" / "procedural" / "scores.jsonl").open()]
    readable = [s["strict"]["extracted"] is not None for s in scores]
    assert len(scores) == 4 * 8 and sum(readable) >= FORMAT_RATE * len(scores), sum(readable)
    results = json.loads((out / "results.json").read_text())
    chance = results["baselines"]["chance"]
    assert chance["easy_vision"] == pytest.approx((1 / 2 + 1 / 4) / 2)  # length: 2 options, bars: 4 options


def test_models_load_with_auto_classes(run):
    from transformers import AutoModelForImageTextToText, AutoProcessor

    import mmreason  # noqa: F401  (registers the Auto classes)

    out, _ = run
    for stage in ("sft", "mpo", "puma"):
        model = AutoModelForImageTextToText.from_pretrained(out / "models" / stage)
        assert type(model).__name__ == "MMReasonForConditionalGeneration"
        assert AutoProcessor.from_pretrained(out / "models" / stage).tokenizer.eos_token == "<|im_end|>"


def test_report_files_exist_and_parse(run):
    out, result = run
    results = json.loads((out / "results.json").read_text())
    assert {"sft_easy", "mpo_hard_gain", "puma_hard_gap"} <= set(results["goals"])
    table = (out / "results.md").read_text()
    for row in ("| sft |", "| mpo |", "| puma |", "| chance |", "| majority |"):
        assert row in table
    for name in ("accuracy.png", "losses.png"):
        with Image.open(out / name) as image:
            assert image.format == "PNG"
    assert "| goal | measured | target | met |" in result.stdout
