"""Scores and reports of an eval run: what was decided, over which rows, and nothing more.

Units: every machine-readable number (`results.json` `metrics`, the `evaluate` metric, `mmreason eval`'s JSON line)
is a fraction in [0, 1]; the human views (`results.md`, `results.png`) and the Hub's `.eval_results` entries
(whose convention is percent) show percent, labelled "%".

* A mode whose every verdict is undecided (flagged `needs_judge`, as `official` on MathVerse without a judge, or
  `needs_latex2sympy`, MATH-V `official` without the `latex` extra) decided nothing: it shows
  "n/a (N need a judge)" / "n/a (N need latex2sympy)", never 0.0, and gets no `.eval_results` entry.
* With a judge (`run_eval(..., judge=...)`), `official` verdicts the protocol leaves to a judge are decided by it
  (`mmreason.eval.judge`); `results.json` records the judge's identity under `judge` and failed judge calls
  under `judge_failures` (those rows stay `needs_judge`).
* A run that is not the benchmark's full split (`--limit`, a local copy with fewer rows than the official split,
  failed or missing rows) is `partial`: its reasons are listed in `results.json` and `results.md`, and no
  `.eval_results` entries are written (a stale file from an earlier full run is removed).
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

from .benchmarks import Benchmark
from .scorers.base import Scorer, Verdict

#: flags of verdicts a mode could not decide, and how the reports name them ("3 need a judge")
UNDECIDED = {"needs_judge": "need a judge", "needs_latex2sympy": "need latex2sympy"}


def needs_judge(metrics: dict[str, Any]) -> int:
    """How many of a mode's verdicts the official protocol leaves to a GPT judge."""
    return int((metrics.get("flags") or {}).get("needs_judge", 0))


def undecided(metrics: dict[str, Any]) -> int:
    """How many of a mode's verdicts carry an `UNDECIDED` flag (a judge or latex2sympy would decide them)."""
    flags = metrics.get("flags") or {}
    return sum(int(flags.get(flag, 0)) for flag in UNDECIDED)


def decided(metrics: dict[str, Any]) -> bool:
    """Whether a mode decided at least one row."""
    return metrics.get("count", 0) > undecided(metrics)


def accuracy_text(metrics: dict[str, Any]) -> str:
    """Overall accuracy in percent for people: "62.5", "40.0 (3 need a judge)", "n/a (8 need a judge)",
    "n/a (5 need latex2sympy)"."""
    if not metrics.get("count"):
        return "n/a (no rows answered)"
    flags = metrics.get("flags") or {}
    why = ", ".join(f"{flags[flag]} {words}" for flag, words in UNDECIDED.items() if flags.get(flag))
    if not decided(metrics):
        return f"n/a ({why})"
    text = f"{100 * metrics['accuracy']:.1f}"
    return f"{text} ({why})" if why else text


def summary(results: dict[str, Any]) -> dict[str, float | None]:
    """Accuracy per mode as a fraction in [0, 1]; `None` where the mode decided nothing."""
    return {m: (round(v["accuracy"], 4) if decided(v) else None) for m, v in results["metrics"].items()}


def partial_reasons(bench: Benchmark, rows: int, answered: int, facts: dict[str, Any]) -> list[str]:
    """Why a run does not stand for the benchmark's full split (empty: it does)."""
    reasons = []
    if facts.get("limit") is not None and facts["limit"] < facts.get("available_rows", rows):
        reasons.append(f"--limit {facts['limit']}")
    available = facts.get("available_rows", rows)
    if bench.full_rows is None:
        reasons.append("the benchmark's full size is not known")
    elif available != bench.full_rows:
        reasons.append(f"the data has {available} rows, the official split(s) {bench.full_rows}")
    if answered < rows:
        reasons.append(f"{rows - answered} of {rows} rows failed or are missing")
    return reasons


def score_and_report(
    bench: Benchmark,
    scorer: Scorer,
    docs: Any,
    keys: list[str],
    records: dict[str, dict[str, Any]],
    out: Path,
    modes: tuple[str, ...],
    facts: dict[str, Any],
    judge: Any = None,
) -> dict[str, Any]:
    """Score the answered rows in each mode (failed rows are not scored) and write scores.jsonl,
    results.json/.md/.png and `.eval_results`; returns the results. `judge` (a `mmreason.eval.judge.Judge`)
    decides the `official` rows its protocol leaves to a judge, caching its replies in `out/judge_cache.jsonl`."""
    answered = [i for i, key in enumerate(keys) if "response" in records.get(key, {})]
    answered_docs = [docs[i] for i in answered]
    responses = [records[keys[i]]["response"] for i in answered]
    metrics, verdicts = {}, {}
    for mode in modes:
        verdicts[mode] = [scorer.score(r, d, mode) for r, d in zip(responses, answered_docs)]
        if judge is not None and mode == "official":
            judge.use_cache(out / "judge_cache.jsonl")
            keys_answered = [keys[i] for i in answered]
            verdicts[mode] = judge.resolve(scorer, keys_answered, responses, answered_docs, verdicts[mode])
        metrics[mode] = scorer.aggregate(answered_docs, verdicts[mode])
    with open(out / "scores.jsonl", "w", encoding="utf-8") as handle:
        for position, i in enumerate(answered):
            handle.write(json.dumps({"id": keys[i], **{m: _verdict(verdicts[m][position]) for m in modes}}) + "\n")
    failures = {k: records[k] for k in keys if k in records and "response" not in records[k]}
    reasons = partial_reasons(bench, len(keys), len(answered), facts)
    results = {
        "benchmark": bench.name, "dataset": bench.dataset, "split": bench.split, "model": facts.get("model"),
        "rows": len(keys), "answered": len(answered), "missing": len(keys) - len(answered),
        "failed": {k: {"stage": r.get("stage", "generate"), "error": r["error"]} for k, r in failures.items()},
        "complete": not reasons, "partial": reasons, "metrics": metrics,
        "strict_changes": list(scorer.STRICT_CHANGES),
        **({"judge": judge.identity(scorer.name), "judge_failures": dict(judge.failures)} if judge else {}),
        "eval_results": [] if reasons else [
            {"dataset": {"id": bench.dataset, "task_id": bench.name},
             "value": round(100 * metrics[m]["accuracy"], 2),
             "notes": f"mmreason {m} scorer ({len(answered)}/{len(keys)} rows)"
                      + (f", judge {judge.client.model}" if judge is not None and m == "official" else "")}
            for m in modes if decided(metrics[m])
        ],
    }  # fmt: skip
    (out / "results.json").write_text(json.dumps(results, indent=2, default=str))
    write_eval_results_yaml(results, out)
    (out / "results.md").write_text(results_markdown(results))
    plot_results(results).savefig(out / "results.png", dpi=120)
    return results


def _verdict(verdict: Verdict) -> dict[str, Any]:
    return {"correct": verdict.correct, "extracted": verdict.extracted, "flags": verdict.flags}


def write_eval_results_yaml(results: dict[str, Any], out: Path) -> Path | None:
    """The Hub's model-repo `.eval_results/<benchmark>.yaml` (strict when it decided rows, else official); `None`
    (and any earlier file removed) when the run is partial or no mode decided anything."""
    path = out / ".eval_results" / f"{results['benchmark']}.yaml"
    candidates = [m for m in ("strict", *results["metrics"]) if m in results["metrics"]]
    mode = next((m for m in candidates if decided(results["metrics"][m])), None)
    if not results["complete"] or mode is None:
        path.unlink(missing_ok=True)
        return None
    import yaml
    from huggingface_hub import EvalResultEntry, eval_result_entries_to_yaml

    entry = EvalResultEntry(
        dataset_id=results["dataset"],
        task_id=results["benchmark"],
        value=round(100 * results["metrics"][mode]["accuracy"], 2),
        notes=f"mmreason eval, {mode} scorer, {results['answered']}/{results['rows']} rows",
    )
    path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump(eval_result_entries_to_yaml([entry]), sort_keys=False))
    return path


def breakdowns(metrics: dict[str, Any]) -> dict[str, list[str]]:
    """Every breakdown in a mode's metrics (`{field: {category: {"accuracy", "count"}}}`) → its categories."""
    return {
        name: list(value)
        for name, value in metrics.items()
        if name != "flags" and isinstance(value, dict) and value
        and all(isinstance(v, dict) and {"accuracy", "count"} <= set(v) for v in value.values())
    }  # fmt: skip


def scalar_metrics(metrics: dict[str, Any], prefix: str = "") -> dict[str, float | int]:
    """The other numbers (worst case, four dimensions, step accuracies), flattened as `a.b` names."""
    found: dict[str, float | int] = {}
    for name, value in metrics.items():
        if (name in ("accuracy", "count", "flags") and not prefix) or name in breakdowns(metrics):
            continue
        if isinstance(value, dict):
            found.update(scalar_metrics(value, f"{prefix}{name}."))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            found[f"{prefix}{name}"] = value
    return found


def _number(value: float | int | None) -> str:
    if value is None:
        return "-"
    return str(value) if isinstance(value, int) else f"{100 * value:.1f}"


def results_markdown(results: dict[str, Any]) -> str:
    """`results.md`: overall accuracy, every breakdown and every other metric per mode, flags, failures."""
    metrics, modes = results["metrics"], list(results["metrics"])
    header = ["| | " + " | ".join(modes) + " |", "|---|" + "---|" * len(modes)]
    lines = [f"# {results['benchmark']} — {results['model']}", "",
             f"{results['answered']}/{results['rows']} rows answered. Accuracy in %.", ""]  # fmt: skip
    if results["partial"]:
        lines += [f"**Partial run** (no `.eval_results` written): {'; '.join(results['partial'])}.", ""]
    if results.get("judge"):
        judge = results["judge"]
        versions = ", ".join(f"{name} {p['version']}" for name, p in judge.get("prompts", {}).items())
        lines += [f"`official` judge: `{judge['model']}` at `{judge['host']}` (prompts: {versions}); "
                  f"{len(results.get('judge_failures') or {})} judge calls failed.", ""]  # fmt: skip
    lines += [*header, "| **overall** | " + " | ".join(accuracy_text(metrics[m]) for m in modes) + " |"]
    for field, categories in breakdowns(metrics[modes[0]]).items() if modes else ():
        lines += ["", f"## {field}", "", *header]
        for category in categories:
            count = metrics[modes[0]][field][category]["count"]
            cells = [_number(metrics[m].get(field, {}).get(category, {}).get("accuracy")) if decided(metrics[m])
                     else "n/a" for m in modes]  # fmt: skip
            lines.append(f"| {category} ({count}) | " + " | ".join(cells) + " |")
    other = {m: scalar_metrics(metrics[m]) for m in modes}
    names = list(dict.fromkeys(name for m in modes for name in other[m]))
    if names:
        lines += ["", "## other metrics (rates in %, counts as numbers)", "", *header]
        lines += [f"| {name} | " + " | ".join(_number(other[m].get(name)) if decided(metrics[m]) else "n/a"
                                              for m in modes) + " |" for name in names]  # fmt: skip
    flags = {m: metrics[m].get("flags") for m in modes if metrics[m].get("flags")}
    if flags:
        lines += ["", f"Flags (rows the rule-based protocol could not decide): {flags}"]
    if results["failed"]:
        lines += ["", f"## failed rows ({len(results['failed'])}, not scored)", ""]
        lines += [f"- `{key}` ({f['stage']}): {f['error'][:200]}" for key, f in list(results["failed"].items())[:50]]
    return "\n".join(lines) + "\n"


def plot_results(results: dict[str, Any]) -> Any:
    """Per-category accuracy bars per mode on a 0-100 % axis (modes that decided nothing are left out and named
    in the legend's title); returns the matplotlib figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = results["metrics"]
    modes = [m for m in metrics if decided(metrics[m])]
    fields = breakdowns(metrics[modes[0]]) if modes else {}
    field, categories = next(iter(fields.items()), (None, []))
    labels = ["overall", *categories]
    figure, axis = plt.subplots(figsize=(max(6, 0.6 * len(labels) + 2), 4.5))
    width = 0.8 / max(len(modes), 1)
    for k, mode in enumerate(modes):
        values = [metrics[mode]["accuracy"]] + [metrics[mode][field][c]["accuracy"] for c in categories]
        axis.bar([x + k * width for x in range(len(labels))], [100 * v for v in values], width, label=mode)
    ticks = [x + width * (len(modes) - 1) / 2 for x in range(len(labels))]
    short = [textwrap.shorten(label, 28, placeholder="...") for label in labels]
    axis.set_xticks(ticks, short, rotation=45, ha="right")
    axis.set_ylim(0, 100)
    axis.set_ylabel("accuracy (%)")
    model = textwrap.shorten(str(Path(str(results["model"])).name or results["model"]), 60, placeholder="...")
    by = f" by {field}" if field else ""
    axis.set_title(f"{results['benchmark']}{by}, {results['answered']}/{results['rows']} rows\n{model}", fontsize=10)
    skipped = [f"{m}: {accuracy_text(metrics[m])}" for m in metrics if m not in modes]
    if modes:
        axis.legend(title="; ".join(skipped) or None, fontsize=8, title_fontsize=8)
    elif skipped:
        axis.text(0.5, 0.5, "\n".join(skipped), transform=axis.transAxes, ha="center", va="center")
    figure.tight_layout()
    plt.close(figure)
    return figure


__all__ = [
    "UNDECIDED", "accuracy_text", "breakdowns", "decided", "needs_judge", "partial_reasons", "plot_results",
    "results_markdown", "scalar_metrics", "score_and_report", "summary", "undecided", "write_eval_results_yaml",
]  # fmt: skip
