"""Run a benchmark end to end: rows → prompts → generation → resumable predictions → scores → report.

out/<benchmark>/
  predictions.jsonl     one line per answered row: {"id", "response"} (or {"id", "error"}); append-only, so
                        a rerun only generates what is missing or failed
  scores.jsonl          per row and mode: extracted answer, verdict, flags
  results.json          metrics per mode, run facts, `eval_results` entries in the Hub's `.eval_results` shape
  results.md            per-category table
  results.png           per-category accuracy, official vs strict
  .eval_results/<benchmark>.yaml   ready for `huggingface_hub.upload_file(..., path_in_repo=...)`
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import datasets
from tqdm.auto import tqdm

from .benchmarks import Benchmark, get_benchmark
from .generation import GenerationError
from .scorers.base import MODES, Scorer, Verdict


def load_rows(benchmark: Benchmark, data: str | None) -> datasets.Dataset:
    """The benchmark split from `data` (local folder / Hub id; default: the benchmark's Hub dataset)."""
    source = data or benchmark.dataset
    try:
        return datasets.load_dataset(source, benchmark.config, split=benchmark.split)
    except ValueError:
        if benchmark.config is None or not os.path.isdir(source):
            raise
        return datasets.load_dataset(source, split=benchmark.split)  # a local copy without the Hub's config name


def read_predictions(path: Path) -> dict[str, str]:
    """Successful responses already in `predictions.jsonl` (later lines win; error lines are retried)."""
    done: dict[str, str] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                if "response" in record:
                    done[record["id"]] = record["response"]
    return done


def conversation(scorer: Scorer, row: dict[str, Any]) -> list[dict[str, Any]]:
    """One user turn: the row's images, then the benchmark's official prompt."""
    parts = [{"type": "image", "image": image} for image in scorer.images(row)]
    return [{"role": "user", "content": [*parts, {"type": "text", "text": scorer.prompt(row)}]}]


def _text_columns(dataset: datasets.Dataset) -> list[str]:
    def is_media(feature: Any) -> bool:
        inner = getattr(feature, "feature", feature)
        return isinstance(inner, datasets.Image | datasets.Video)

    return [name for name, feature in dataset.features.items() if not is_media(feature)]


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
) -> dict[str, Any]:
    """Generate what is missing, score every answered row in each mode, write the report; returns results."""
    bench = get_benchmark(benchmark)
    scorer = bench.scorer()
    rows = load_rows(bench, data)
    if limit is not None:
        rows = rows.select(range(min(limit, len(rows))))
    out = Path(output_dir) / benchmark
    out.mkdir(parents=True, exist_ok=True)
    predictions_path = out / "predictions.jsonl"
    done = read_predictions(predictions_path)
    ids = [bench.row_id(row, i) for i, row in enumerate(rows.select_columns(_text_columns(rows)))]
    todo = [i for i, row_id in enumerate(ids) if row_id not in done]
    with open(predictions_path, "a", encoding="utf-8") as handle, tqdm(
        total=len(todo), disable=not progress, desc=f"generate {benchmark}", unit="rows"
    ) as bar:  # fmt: skip
        for start in range(0, len(todo), chunk_size):
            batch = todo[start : start + chunk_size]
            outputs = backend.generate([conversation(scorer, rows[i]) for i in batch])
            for index, output in zip(batch, outputs):
                record = {"id": ids[index]}
                if isinstance(output, GenerationError):
                    record["error"] = output.message
                else:
                    record["response"] = done[ids[index]] = output
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            handle.flush()
            bar.update(len(batch))
    return score_and_report(bench, scorer, rows, ids, done, out, modes, model_name)


def score_and_report(
    bench: Benchmark,
    scorer: Scorer,
    rows: datasets.Dataset,
    ids: list[str],
    responses: dict[str, str],
    out: Path,
    modes: tuple[str, ...],
    model_name: str,
) -> dict[str, Any]:
    """Score the answered rows in each mode and write scores.jsonl, results.json/.md/.png, .eval_results."""
    docs = rows.select_columns(_text_columns(rows))
    answered = [(i, ids[i]) for i in range(len(ids)) if ids[i] in responses]
    answered_docs = [docs[i] for i, _ in answered]
    metrics, verdicts = {}, {}
    for mode in modes:
        verdicts[mode] = [
            scorer.score(responses[row_id], doc, mode) for (_, row_id), doc in zip(answered, answered_docs)
        ]
        metrics[mode] = scorer.aggregate(answered_docs, verdicts[mode])
    with open(out / "scores.jsonl", "w", encoding="utf-8") as handle:
        for position, (_, row_id) in enumerate(answered):
            handle.write(json.dumps({"id": row_id, **{m: _verdict(verdicts[m][position]) for m in modes}}) + "\n")
    results = {
        "benchmark": bench.name,
        "dataset": bench.dataset,
        "split": bench.split,
        "model": model_name,
        "rows": len(ids),
        "answered": len(answered),
        "missing": len(ids) - len(answered),
        "metrics": metrics,
        "strict_changes": list(scorer.STRICT_CHANGES),
        "eval_results": [
            {
                "dataset": {"id": bench.dataset, "task_id": bench.name},
                "value": round(100 * metrics[m]["accuracy"], 2),
                "notes": f"mmreason {m} scorer ({len(answered)}/{len(ids)} rows)",
            }
            for m in modes
        ],
    }
    (out / "results.json").write_text(json.dumps(results, indent=2, default=str))
    write_eval_results_yaml(results, out)
    write_table_and_plot(results, scorer, out)
    return results


def _verdict(verdict: Verdict) -> dict[str, Any]:
    return {"correct": verdict.correct, "extracted": verdict.extracted, "flags": verdict.flags}


def write_eval_results_yaml(results: dict[str, Any], out: Path) -> Path:
    """The Hub's model-repo `.eval_results/<benchmark>.yaml` (strict mode when present, else the first mode)."""
    from huggingface_hub import EvalResultEntry, eval_result_entries_to_yaml

    mode = "strict" if "strict" in results["metrics"] else next(iter(results["metrics"]))
    entry = EvalResultEntry(
        dataset_id=results["dataset"],
        task_id=results["benchmark"],
        value=round(100 * results["metrics"][mode]["accuracy"], 2),
        notes=f"mmreason eval, {mode} scorer, {results['answered']}/{results['rows']} rows",
    )
    import yaml

    path = out / ".eval_results" / f"{results['benchmark']}.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump(eval_result_entries_to_yaml([entry]), sort_keys=False))
    return path


def write_table_and_plot(results: dict[str, Any], scorer: Scorer, out: Path) -> None:
    """`results.md` (overall + per-category accuracy per mode) and `results.png` (per-category bars)."""
    metrics, modes = results["metrics"], list(results["metrics"])
    lines = [f"# {results['benchmark']} — {results['model']}", "", "| | " + " | ".join(modes) + " |",
             "|---|" + "---|" * len(modes)]  # fmt: skip
    lines.append("| **overall** | " + " | ".join(f"{100 * metrics[m]['accuracy']:.1f}" for m in modes) + " |")
    field = next((f for f in scorer.breakdown if isinstance(metrics[modes[0]].get(f), dict)), None)
    categories = list(metrics[modes[0]][field]) if field else []
    for category in categories:
        cells = [f"{100 * metrics[m][field][category]['accuracy']:.1f}" for m in modes]
        lines.append(
            f"| {field}: {category} ({metrics[modes[0]][field][category]['count']}) | " + " | ".join(cells) + " |"
        )
    flags = {m: metrics[m].get("flags") for m in modes if metrics[m].get("flags")}
    if flags:
        lines += ["", f"Flags (rows the rule-based protocol could not decide): {flags}"]
    (out / "results.md").write_text("\n".join(lines) + "\n")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = ["overall", *categories]
    figure, axis = plt.subplots(figsize=(max(6, 0.6 * len(labels) + 2), 4))
    width = 0.8 / len(modes)
    for k, mode in enumerate(modes):
        values = [metrics[mode]["accuracy"]] + [metrics[mode][field][c]["accuracy"] for c in categories]
        axis.bar([x + k * width for x in range(len(labels))], [100 * v for v in values], width, label=mode)
    axis.set_xticks([x + width * (len(modes) - 1) / 2 for x in range(len(labels))], labels, rotation=45, ha="right")
    axis.set_ylabel("accuracy (%)")
    axis.set_title(f"{results['benchmark']} ({results['answered']} rows) — {results['model']}")
    axis.legend()
    figure.tight_layout()
    figure.savefig(out / "results.png", dpi=120)
    plt.close(figure)


__all__ = ["conversation", "load_rows", "read_predictions", "run_eval", "score_and_report"]
