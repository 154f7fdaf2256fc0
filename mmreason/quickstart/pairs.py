"""Stage 2: MMPR correctness pairs from the SFT model's own samples (the synthesis engine's `mmpr_pairs` pipeline).

The SFT model (in-process [`TransformersBackend`]) samples `num_samples` answers per training question at
temperature 1 / top-k 50 (InternVL's settings); each answer's `Final answer:` is parsed and checked against the gold
answer with the strict scorer, and correct answers are paired with incorrect ones (correctness pairs) and with
unparseable ones (format pairs), all through [`MMPRCorrectnessStage`] run as a resumable job ([`run_job`])
whose Parquet shards are the MPO training set.

The one setting changed from InternVL's run: the stage's prompt template is `{question}`, because the procedural
prompt already asks for step-by-step reasoning and a `Final answer:` line, and it is the prompt the model was
fine-tuned on and is evaluated with (InternVL wraps short-answer questions in its CoT instruction instead).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import datasets
import torch

from ..generation import TransformersBackend
from ..synth import run_job
from ..synth.pipelines.mmpr_pairs import TRIGGERS, MMPRCorrectnessStage
from ..synth.prompts import Prompt
from .presets import Preset

#: the identity template: the row's own prompt, unwrapped
QUESTION_AS_IS = Prompt("procedural_question", 1, "{question}")


def gold_answer(rationale: str) -> str:
    """The gold answer of a procedural rationale (the text after its last `Final answer:`)."""
    return rationale.rsplit(TRIGGERS[0], 1)[-1].strip()


def pair_questions(sft_rows: datasets.Dataset, count: int, seed: int) -> list[dict[str, Any]]:
    """`count` vision-view training rows of the `hard` level (drawn with `random.Random(seed)`), each with its gold
    `answer`. (Easy rationales are one line before the answer, which InternVL's parser rejects as too short.)

    Chosen by index in memory: `datasets`' cached `filter`/`shuffle` results are keyed on the dataset's
    fingerprint, which a regenerated folder shares with the previous run's."""
    hard = [i for i, group in enumerate(sft_rows["quality_group"]) if group == "hard-vision"]
    chosen = sorted(random.Random(seed).sample(hard, min(count, len(hard))))
    rows = sft_rows.select(chosen, keep_in_memory=True)
    return [{**row, "answer": gold_answer(row["messages"][-1]["content"][0]["text"])} for row in rows]


def build_mmpr_pairs(model: Any, processor: Any, sft_rows: datasets.Dataset, preset: Preset, out: Path,
                     seed: int) -> dict[str, Any]:  # fmt: skip
    """Sample, judge and pair; returns `{"pairs": Dataset, "summary": JobSummary}` (the pairs may be empty when
    the model never answers a question both right and wrong)."""
    backend = TransformersBackend(
        (model, processor), batch_size=64, max_new_tokens=preset.max_new_tokens, system_prompt=None
    )  # the chat template's default system prompt, as in training
    stage = MMPRCorrectnessStage(backend, num_samples=preset.num_samples, max_new_tokens=preset.max_new_tokens,
                                 seed=seed)  # fmt: skip
    stage.prompt = QUESTION_AS_IS
    torch.manual_seed(seed)  # the samples draw from torch's generator
    summary = run_job(stage, pair_questions(sft_rows, preset.n_pair_questions, seed), out, batch_size=32,
                      resume=False)  # fmt: skip
    shards = sorted(str(path) for path in (out / "data").glob("*.parquet"))
    pairs = None
    if summary.output_rows:
        pairs = datasets.load_dataset("parquet", data_files=shards, split="train")
    return {"pairs": pairs, "summary": summary}


__all__ = ["QUESTION_AS_IS", "build_mmpr_pairs", "gold_answer", "pair_questions"]
