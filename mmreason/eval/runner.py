"""Run a benchmark end to end: rows → prompts → generation → resumable predictions → scores → report.

out/<benchmark>/
  run.json              what the predictions were made with: model name + the backend's generation settings;
                        a rerun with other settings is refused (or, with `on_mismatch="new_folder"`, goes to
                        out/<benchmark>-<fingerprint>/) instead of reusing another model's answers
  predictions.jsonl     one line per attempted row: {"id", "prompt", "response"} or {"id", "prompt", "error",
                        "stage"}; append-only, so a rerun only generates what is missing or failed (a line cut
                        by a crash is dropped and its row generated again)
  scores.jsonl          per answered row and mode: extracted answer, verdict, flags (failed rows are not scored)
  judge_cache.jsonl     with a judge: its replies, keyed by judge host + model + prompt version + prompt
  results.json / results.md / results.png / .eval_results/<benchmark>.yaml   see `mmreason.eval.report`

A row that cannot be prompted (missing image, unreadable image) or whose generation raises is recorded as a
failure with its stage and reason, and the run goes on; failures are never scored as answers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections import Counter
from pathlib import Path
from typing import Any

import datasets
from tqdm.auto import tqdm

from ..generation import GenerationError
from ..model.image_io import load_rgb
from .benchmarks import SPLIT_COLUMN, Benchmark, RowError, get_benchmark
from .report import score_and_report
from .scorers.base import MODES, Scorer

logger = logging.getLogger("mmreason.eval")


class RunMismatchError(ValueError):
    """The output folder holds predictions made with another model, other settings or other prompts."""


def load_rows(benchmark: Benchmark, data: str | None) -> datasets.Dataset:
    """The benchmark's split(s) from `data` (local folder / Hub id; default: the benchmark's Hub dataset).

    Several splits (DynaMath's ten variants) are concatenated, each row tagged with its split in `variant`."""
    source = data or benchmark.dataset
    parts = []
    for split in benchmark.splits:
        try:
            part = datasets.load_dataset(source, benchmark.config, split=split)
        except ValueError:
            if benchmark.config is None or not os.path.isdir(source):
                raise
            part = datasets.load_dataset(source, split=split)  # a local copy without the Hub's config name
        if SPLIT_COLUMN in benchmark.key_fields and SPLIT_COLUMN not in part.column_names:
            part = part.add_column(SPLIT_COLUMN, [split] * len(part))
        parts.append(part)
    return parts[0] if len(parts) == 1 else datasets.concatenate_datasets(parts)


def row_keys(bench: Benchmark, docs: datasets.Dataset) -> list[str]:
    """Every row's key; raises naming the duplicates when two rows share one (they would share an answer)."""
    keys = [bench.row_key(doc) for doc in docs]
    duplicates = [key for key, n in Counter(keys).items() if n > 1]
    if duplicates:
        raise ValueError(
            f"{bench.name}: {len(duplicates)} row keys are not unique (key fields {list(bench.key_fields)}), e.g. "
            f"{duplicates[:5]}; rows sharing a key would share one prediction"
        )
    return keys


def repair_predictions(path: Path) -> int:
    """Drop a last line cut short by a crash (no final newline); returns the bytes removed."""
    if not path.exists() or path.stat().st_size == 0:
        return 0
    data = path.read_bytes()
    if data.endswith(b"\n"):
        return 0
    keep = data.rfind(b"\n") + 1
    os.truncate(path, keep)
    logger.warning("%s: dropped a truncated last line (%d bytes); its row is generated again", path, len(data) - keep)
    return len(data) - keep


def read_predictions(path: Path) -> dict[str, dict[str, Any]]:
    """The latest record per row key in `predictions.jsonl` (a truncated last line is ignored)."""
    records: dict[str, dict[str, Any]] = {}
    if not path.exists():
        return records
    lines = path.read_text(encoding="utf-8").split("\n")
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            if number == len(lines):  # cut short by a crash: generated again
                break
            raise ValueError(f"{path}:{number}: not a JSON line ({error.msg}); remove or fix the line") from error
        records[str(record["id"])] = record
    return records


def prompt_hash(bench: Benchmark, scorer: Scorer, doc: dict[str, Any]) -> str | None:
    """A short hash of what a row asks (its text prompt and image count); `None` when it cannot be prompted."""
    try:
        asked = [scorer.prompt(doc), len(bench.image_fields(doc))]
    except Exception:
        return None
    return hashlib.sha256(json.dumps(asked, ensure_ascii=False).encode()).hexdigest()[:16]


def conversation(bench: Benchmark, scorer: Scorer, row: dict[str, Any]) -> list[dict[str, Any]]:
    """One user turn: the row's declared images (decoded, checked), then the benchmark's official prompt.

    Raises [`RowError`] for a missing image and the image loader's error for an unreadable one."""
    parts = [{"type": "image", "image": load_rgb(image)} for image in bench.images(row)]
    return [{"role": "user", "content": [*parts, {"type": "text", "text": scorer.prompt(row)}]}]


def run_fingerprint(backend: Any, model_name: str) -> dict[str, Any]:
    """The model name and the backend's generation settings (`backend.settings()` when it has one)."""
    settings = backend.settings() if hasattr(backend, "settings") else {"backend": type(backend).__name__}
    facts = {"model": model_name, "generation": settings}
    return {**facts, "fingerprint": hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()[:12]}


def prepare_folder(root: Path, benchmark: str, fingerprint: dict[str, Any], on_mismatch: str) -> Path:
    """The output folder for this run, with its `run.json`; refuses a folder made by another run."""
    if on_mismatch not in ("error", "new_folder"):
        raise ValueError(f"on_mismatch must be 'error' or 'new_folder', not {on_mismatch!r}")
    out = root / benchmark
    problem = _mismatch(out, fingerprint)
    if problem and on_mismatch == "new_folder":
        out = root / f"{benchmark}-{fingerprint['fingerprint']}"
        logger.warning("%s; writing to %s instead", problem, out)
        problem = _mismatch(out, fingerprint)
    if problem:
        raise RunMismatchError(
            f"{problem}. Use another --output_dir, delete the folder, or ask for a new folder "
            "(--on_mismatch new_folder)"
        )
    out.mkdir(parents=True, exist_ok=True)
    (out / "run.json").write_text(json.dumps(fingerprint, indent=2, default=str))
    return out


def _mismatch(out: Path, fingerprint: dict[str, Any]) -> str | None:
    predictions = out / "predictions.jsonl"
    if (out / "run.json").exists():
        old = json.loads((out / "run.json").read_text())
        if old.get("fingerprint") == fingerprint["fingerprint"]:
            return None
        changed = {k: (old.get(k), fingerprint[k]) for k in ("model", "generation") if old.get(k) != fingerprint[k]}
        return f"{out} holds predictions made with other settings: {changed} (was, now)"
    if predictions.exists() and predictions.stat().st_size:
        return f"{out} holds predictions of an unknown model and settings (no run.json)"
    return None


def run_eval(
    benchmark: str,
    backend: Any,
    output_dir: str | os.PathLike,
    data: str | None = None,
    limit: int | None = None,
    modes: tuple[str, ...] = MODES,
    model_name: str = "model",
    chunk_size: int = 64,
    progress: bool = True,
    on_mismatch: str = "error",
    judge: Any = None,
) -> dict[str, Any]:
    """Generate what is missing, score every answered row in each mode, write the report; returns results.

    `on_mismatch`: what to do when the output folder was made with another model or other generation settings:
    `"error"` (default) or `"new_folder"` (`<output_dir>/<benchmark>-<fingerprint>`).
    `judge`: a `mmreason.eval.judge.Judge` for the `official` rows whose protocol asks an LLM judge (MathVista and
    MathVerse extraction, MathVerse's judgement, DynaMath's reformat); its replies are cached in
    `<out>/judge_cache.jsonl` keyed by judge host, model, prompt version and prompt, so a re-scored run never
    asks again and another judge never reuses them."""
    bench = get_benchmark(benchmark)
    scorer = bench.scorer()
    rows = load_rows(bench, data)
    available = len(rows)
    if limit is not None:
        rows = rows.select(range(min(limit, len(rows))))
    docs = rows.select_columns(text_columns(rows))
    keys = row_keys(bench, docs)
    out = prepare_folder(Path(output_dir), benchmark, run_fingerprint(backend, model_name), on_mismatch)
    predictions_path = out / "predictions.jsonl"
    repair_predictions(predictions_path)
    records = read_predictions(predictions_path)
    prompts = [prompt_hash(bench, scorer, doc) for doc in docs]
    check_prompts(bench, keys, prompts, records)
    todo = [i for i, key in enumerate(keys) if "response" not in records.get(key, {})]
    with open(predictions_path, "a", encoding="utf-8") as handle, tqdm(
        total=len(todo), disable=not progress, desc=f"generate {benchmark}", unit="rows"
    ) as bar:  # fmt: skip
        for start in range(0, len(todo), chunk_size):
            chunk = todo[start : start + chunk_size]
            for record in _generate_chunk(bench, scorer, backend, rows, [(keys[i], prompts[i], i) for i in chunk]):
                records[record["id"]] = record
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            handle.flush()
            bar.update(len(chunk))
    facts = {"model": model_name, "limit": limit, "available_rows": available, "local": data is not None}
    return score_and_report(bench, scorer, docs, keys, records, out, modes, facts, judge=judge)


def check_prompts(
    bench: Benchmark, keys: list[str], prompts: list[str | None], records: dict[str, dict[str, Any]]
) -> None:
    """Refuse predictions whose row was asked with another prompt than the one this run would use."""
    changed = [k for k, p in zip(keys, prompts) if records.get(k, {}).get("prompt") not in (None, p)]
    if changed:
        raise RunMismatchError(
            f"{bench.name}: {len(changed)} rows were answered with another prompt than this run's (e.g. "
            f"{changed[:3]}); use another --output_dir"
        )


def _generate_chunk(
    bench: Benchmark, scorer: Scorer, backend: Any, rows: datasets.Dataset, chunk: list[tuple[str, str | None, int]]
) -> list[dict[str, Any]]:
    """Prompt and generate one chunk of `(key, prompt hash, row index)`; every row gets a response or a failure."""
    results, prompted = [], []
    for key, digest, index in chunk:
        try:
            prompted.append((key, digest, conversation(bench, scorer, rows[index])))
        except Exception as error:  # a row that cannot be prompted fails alone
            results.append(_failure(key, digest, "image" if _is_image_error(error) else "prompt", error))
    outputs = _generate(backend, [messages for _, _, messages in prompted])
    for (key, digest, _), output in zip(prompted, outputs):
        if isinstance(output, str):
            results.append({"id": key, "prompt": digest, "response": output})
        elif isinstance(output, GenerationError):
            results.append({"id": key, "prompt": digest, "error": output.message, "stage": "generate"})
        else:
            results.append(_failure(key, digest, "generate", output))
    return results


def _generate(backend: Any, conversations: list[list[dict[str, Any]]]) -> list[Any]:
    """`backend.generate`; when the batch raises, each conversation again alone, so one bad row fails alone."""
    if not conversations:
        return []
    try:
        outputs = list(backend.generate(conversations))
        if len(outputs) != len(conversations):
            raise RuntimeError(f"backend returned {len(outputs)} outputs for {len(conversations)} conversations")
        return [o if isinstance(o, str | GenerationError) else TypeError(f"backend returned {o!r}") for o in outputs]
    except Exception as error:
        if len(conversations) == 1:
            return [error]
        logger.warning("a batch of %d failed (%s); generating its rows one by one", len(conversations), error)
        return [_generate(backend, [c])[0] for c in conversations]


def _is_image_error(error: Exception) -> bool:
    from ..model.image_io import ImageError

    return isinstance(error, ImageError | OSError) or (isinstance(error, RowError) and "image" in str(error))


def _failure(key: str, digest: str | None, stage: str, error: Exception) -> dict[str, Any]:
    return {"id": key, "prompt": digest, "error": f"{type(error).__name__}: {error}", "stage": stage}


def text_columns(dataset: datasets.Dataset) -> list[str]:
    """The columns that are not images/videos (what scorers read)."""

    def is_media(feature: Any) -> bool:
        inner = getattr(feature, "feature", feature)
        return isinstance(inner, datasets.Image | datasets.Video)

    return [name for name, feature in dataset.features.items() if not is_media(feature)]


__all__ = [
    "RunMismatchError",
    "check_prompts",
    "conversation",
    "load_rows",
    "prepare_folder",
    "prompt_hash",
    "read_predictions",
    "repair_predictions",
    "row_keys",
    "run_eval",
    "run_fingerprint",
]
