"""`run_quickstart`: the whole recipe in one call — data, model, SFT → MMPR pairs → MPO → PUMA, evaluated after
every training stage, then the report."""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import datasets
import torch

from ..data import procedural
from .evaluate import baselines, evaluate
from .grpo import run_grpo
from .model import build_model
from .mpo import run_mpo
from .pairs import build_mmpr_pairs
from .presets import Preset
from .puma import run_puma
from .report import summary, write_report
from .sft import run_sft
from .tokenizer import tokenizer_for

logger = logging.getLogger("mmreason.quickstart")


def _load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else []


@contextlib.contextmanager
def datasets_cache(folder: Path) -> Iterator[None]:
    """`datasets`' cache in `folder` while the run lasts (`datasets.config.HF_DATASETS_CACHE`, read at each
    `load_dataset` call): two quickstarts running at once never read each other's cached data."""
    before = datasets.config.HF_DATASETS_CACHE
    datasets.config.HF_DATASETS_CACHE = folder
    try:
        yield
    finally:
        datasets.config.HF_DATASETS_CACHE = before


def load_fresh(data_dir: Path) -> dict[str, datasets.Dataset]:
    """Every config of the saved set, read from its Parquet files again (`force_redownload`).

    `datasets` keys its cache of a local folder on the folder's card configs, not on the files' contents, so a
    folder saved again (another seed or size, same configs) would be read from the previous run's cache; this also
    refreshes the `test` config the eval runner then loads. Kept in memory, so the trainers' `map`/`filter` calls
    never reuse cached results of the previous run's data (they are keyed on fingerprints it shares)."""
    loaded = {}
    for name in (*procedural.CONFIGS, "test"):
        loaded[name] = datasets.load_dataset(
            str(data_dir), name, download_mode="force_redownload", verification_mode="no_checks", keep_in_memory=True
        )
    return {name: next(iter(parts.values())) for name, parts in loaded.items() if name != "test"}


def run_quickstart(preset: Preset, output_dir: str | os.PathLike, seed: int = 0) -> dict[str, Any]:
    """Run every stage into `output_dir` (`data/`, `models/<stage>/`, `pairs/`, `eval/<stage>/`, the report) and
    return the results (also in `results.json`), with `"summary"` the one-screen text."""
    if preset.threads:
        torch.set_num_threads(preset.threads)
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    with datasets_cache(out / "cache"):
        return _run(preset, out, seed)


def _run(preset: Preset, out: Path, seed: int) -> dict[str, Any]:
    start, seconds, load = time.perf_counter(), {}, [_load_average()]

    def timed(name: str, began: float) -> None:
        seconds[name] = time.perf_counter() - began
        logger.info("stage %s done in %.1f s", name, seconds[name])

    began = time.perf_counter()
    data_dir = procedural.save(
        out / "data", seed=seed, n_train=preset.n_train, n_test=preset.n_test, families=preset.families
    )
    splits = load_fresh(data_dir)
    tests = {name.removeprefix("test_"): split for name, split in splits.items() if name.startswith("test_")}
    tokenizer = tokenizer_for(splits["sft_train"]["messages"], preset.vocab_size) if preset.vocab_size else None
    model, processor = build_model(preset, seed, tokenizer)
    timed("data", began)

    stages: dict[str, dict[str, float]] = {}
    curves: dict[str, Any] = {}
    models: dict[str, str] = {}
    pairs_info: dict[str, Any] = {}
    for name in ("sft", "pairs", "mpo", "puma"):
        began = time.perf_counter()
        logger.info("stage %s", name)
        if name == "pairs":
            built = build_mmpr_pairs(model, processor, splits["sft_train"], preset, out / "pairs", seed)
            pairs, job = built["pairs"], built["summary"]
            pairs_info = {"questions": job.input_rows, "pair_rows": 0 if pairs is None else len(pairs),
                          "failures": dict(job.failure_reasons)}  # fmt: skip
            timed(name, began)
            continue
        if name == "sft":
            result = run_sft(model, processor, splits["sft_train"], preset, out / "models" / name, seed)
        elif name == "mpo":
            if not pairs:
                logger.warning("no MMPR pairs (every sampled question was all right or all wrong): MPO skipped")
                timed(name, began)
                continue
            result = run_mpo(model, processor, pairs, preset, out / "models" / name, seed)
        else:
            result = run_puma(model, processor, splits["pairs_train"], preset, out / "models" / name, seed)
        model, processor = result["model"]
        curves[name], models[name] = result["curves"], str(result["path"])
        timed(name, began)
        began = time.perf_counter()
        stages[name] = evaluate(model, processor, data_dir, out / "eval" / name, name, preset.max_new_tokens)
        timed(f"eval_{name}", began)
    if preset.grpo_steps:
        began = time.perf_counter()
        logger.info("stage grpo")
        budget = seconds.get("pairs", 0.0) + seconds.get("mpo", 0.0)  # SFT -> MPO's wall time
        result = run_grpo(Path(models["sft"]), splits["prompts_train"], preset, out / "models" / "grpo", seed, budget)
        curves["grpo"], models["grpo"] = result["curves"], str(result["path"])
        timed("grpo", began)
        began = time.perf_counter()
        stages["grpo"] = evaluate(*result["model"], data_dir, out / "eval" / "grpo", "grpo", preset.max_new_tokens)
        timed("eval_grpo", began)
    seconds["total"] = time.perf_counter() - start
    load.append(_load_average())
    results = {
        "preset": preset.__dict__, "seed": seed, "stages": stages, "baselines": baselines(splits["sft_train"], tests),
        "pairs": pairs_info, "curves": curves, "models": models, "seconds": seconds, "load_average": load,
        "cpu_count": os.cpu_count(),
    }  # fmt: skip
    paths = write_report(results, out)
    return {**results, "report": {k: str(v) for k, v in paths.items()}, "summary": summary(results, paths)}


__all__ = ["run_quickstart"]
