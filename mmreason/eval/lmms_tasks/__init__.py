"""lmms-eval task definitions that score with mmreason's judge-free scorers (`official` and `strict` modes).

    lmms-eval --model mmreason --model_args pretrained=MAmmoTH-VL/MAmmoTH-VL-8B \
        --include_path "$(python -m mmreason.eval.lmms_tasks)" --tasks mathvista_testmini_mmreason,mmmu_val_mmreason

Tasks (group tag `mmreason`): `mathvista_testmini_mmreason` (AI4Math/MathVista, testmini) and `mmmu_val_mmreason`
(lmms-lab-encoder/MMMU, validation). Prompts and images come from the scorer (the same as `mmreason eval`), scoring
from [`bridge`]; no OpenAI key, no network beyond the dataset. Metrics: `official_acc`, `strict_acc` and one count
per verdict flag (`official_needs_judge`, `official_random_guess`, `strict_no_answer`); with `--log_samples` every
sample keeps its extracted answer and flags.

For a local copy of a benchmark, write a task yaml next to your data that includes one of these and overrides the
dataset (a folder in the Hub's `data/<split>-00000-of-00001.parquet` layout, or `dataset_path: parquet` with
`dataset_kwargs: {data_files: ...}`):

    include: <TASK_DIR>/mathvista_testmini_mmreason.yaml
    task: mathvista_testmini_local
    dataset_path: /data/MathVista
"""

from __future__ import annotations

from pathlib import Path

#: the folder to pass to `lmms-eval --include_path`
TASK_DIR = Path(__file__).resolve().parent

__all__ = ["TASK_DIR"]
