"""The data report of a synthesis job: `report.md` plus PNG plots, what people look at before they train.

[`job_stats`] reads a job folder (its committed Parquet shards — media columns are never read —, `failures.jsonl`
and `summary.json`) into plain numbers; [`write_report`] writes them as markdown tables and matplotlib plots:

* **category mix** — `rewrite_category` (MAmmoTH-VL rewrite), else the pair kind of preference rows (MMPR's
  `_pairs_vqa_correctness_rules` / `_pairs_vqa_format_rules` / `_prefix_pair_*` sources), else `category`;
* **length distributions** — whitespace words of the assistant turn (canonical rows) or of chosen and rejected;
* **judge scores** — histogram of `judge_score` and the pass rate (`judge_passed`), when the rows have them;
* **pairs per question** — preference rows per input row (ids are `<input id>-<suffix>`);
* **failure reasons** — failed attempts by step (the text before the reason's first `:`) and the rows that still
  wait for a retry or failed for good.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .outputs import job_data_files, read_failures
from .state import SUMMARY_FILE

REPORT_FILE = "report.md"
PAIR_KINDS = (("_pairs_vqa_correctness_rules", "correctness"), ("_pairs_vqa_format_rules", "format"),
              ("_prefix_pair_", "dropout_ntp"))  # fmt: skip


@dataclass
class JobStats:
    """What the report shows, as numbers.

    Attributes:
        rows: committed output rows.
        kind: `"canonical"` (messages), `"preference"` (chosen/rejected) or `"other"`.
        categories: rows per category (see the module docstring for which column).
        lengths: whitespace-word lengths per side (`"assistant"`, or `"chosen"` and `"rejected"`).
        judge_scores: rows per judge score (empty without a `judge_score` column).
        judge_pass_rate: share of rows with `judge_passed` (`None` without the column).
        pairs_per_question: questions per number of pairs (preference rows only).
        failure_steps: failed attempts per step; `failure_reasons`: the most frequent reasons, verbatim.
        pending_retries / permanent_failures / input_rows / done: from the job's `summary.json`.
    """

    rows: int = 0
    kind: str = "other"
    categories: dict[str, int] = field(default_factory=dict)
    lengths: dict[str, list[int]] = field(default_factory=dict)
    judge_scores: dict[int, int] = field(default_factory=dict)
    judge_pass_rate: float | None = None
    pairs_per_question: dict[int, int] = field(default_factory=dict)
    failure_steps: dict[str, int] = field(default_factory=dict)
    failure_reasons: dict[str, int] = field(default_factory=dict)
    pending_retries: int = 0
    permanent_failures: int = 0
    input_rows: int = 0
    done: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict (lengths summarised as count/mean/median/p90/max)."""
        data = asdict(self)
        data["lengths"] = {side: _summary(values) for side, values in self.lengths.items()}
        return data


def _summary(values: list[int]) -> dict[str, float]:
    if not values:
        return {"count": 0}
    ordered = sorted(values)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"count": len(ordered), "mean": round(sum(ordered) / len(ordered), 2), "median": pick(0.5),
            "p90": pick(0.9), "max": ordered[-1]}  # fmt: skip


def _text(messages: list[dict[str, Any]] | None, role: str) -> str:
    return " ".join(
        part.get("text") or ""
        for message in messages or []
        if message.get("role") == role
        for part in message.get("content") or []
        if part.get("type") == "text"
    )


def _pair_kind(source: str) -> str:
    return next((kind for suffix, kind in PAIR_KINDS if suffix in source), source or "unknown")


def job_stats(out_dir: str | Path) -> JobStats:
    """The report's numbers for the job in `out_dir` (one process or sharded)."""
    import pyarrow.parquet as pq

    stats = JobStats()
    files = job_data_files(out_dir)
    media = {"images", "videos", "text_rich_images", "vision_rich_images"}
    tables = [pq.read_table(f, columns=[c for c in pq.read_schema(f).names if c not in media]) for f in files]
    rows = [row for table in tables for row in table.to_pylist()]
    stats.rows = len(rows)
    columns = set(rows[0]) if rows else set()
    if "chosen" in columns:
        stats.kind = "preference"
        stats.categories = dict(Counter(_pair_kind(r.get("source") or "") for r in rows).most_common())
        for side in ("chosen", "rejected"):
            stats.lengths[side] = [len(_text(r[side], "assistant").split()) for r in rows]
        per_question = Counter(r["id"].rsplit("-", 1)[0] for r in rows)
        stats.pairs_per_question = dict(sorted(Counter(per_question.values()).items()))
    elif "messages" in columns:
        stats.kind = "canonical"
        column = "rewrite_category" if "rewrite_category" in columns else "category"
        stats.categories = dict(Counter(r.get(column) or "(none)" for r in rows).most_common())
        stats.lengths["assistant"] = [len(_text(r["messages"], "assistant").split()) for r in rows]
    if "judge_score" in columns:
        stats.judge_scores = dict(sorted(Counter(int(r["judge_score"]) for r in rows).items()))
    if "judge_passed" in columns and rows:
        stats.judge_pass_rate = sum(bool(r["judge_passed"]) for r in rows) / len(rows)
    failures = read_failures(out_dir)
    stats.failure_steps = dict(Counter(f["reason"].split(":")[0].strip() for f in failures).most_common())
    stats.failure_reasons = dict(Counter(f["reason"][:120] for f in failures).most_common(10))
    for summary_file in [Path(out_dir) / SUMMARY_FILE, *sorted(Path(out_dir).glob(f"rank-*/{SUMMARY_FILE}"))]:
        if summary_file.exists():
            summary = json.loads(summary_file.read_text())
            stats.pending_retries += summary.get("pending_retries", 0)
            stats.permanent_failures += summary.get("permanent_failures", 0)
            stats.input_rows += summary.get("input_rows", 0)
            stats.done = summary.get("done", False) if summary_file.parent == Path(out_dir) else stats.done
    return stats


def _bar(path: Path, title: str, counts: dict[Any, int], xlabel: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 3.5))
    labels = [str(k) for k in counts]
    axis.bar(labels, list(counts.values()), color="#4c72b0")
    axis.set(title=title, xlabel=xlabel, ylabel="count")
    axis.tick_params(axis="x", labelrotation=30 if max(map(len, labels), default=0) > 6 else 0)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _histogram(path: Path, lengths: dict[str, list[int]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 3.5))
    for side, values in lengths.items():
        axis.hist(values, bins=min(30, max(1, len(set(values)))), alpha=0.6, label=side)
    axis.set(title="response length", xlabel="whitespace words", ylabel="rows")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _table(counts: dict[Any, int], key: str) -> list[str]:
    total = sum(counts.values()) or 1
    return [f"| {key} | rows | share |", "|---|---|---|"] + [
        f"| {k} | {v} | {100 * v / total:.1f}% |" for k, v in counts.items()
    ]


def write_report(out_dir: str | Path, report_dir: str | Path | None = None, title: str | None = None) -> Path:
    """Write `report.md` and its PNG plots for the job in `out_dir` (into `report_dir`, default
    `out_dir/report/`) and `stats.json` with the numbers; returns the markdown file's path."""
    stats = job_stats(out_dir)
    folder = Path(report_dir) if report_dir is not None else Path(out_dir) / "report"
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"# {title or 'Synthesis job report'}", "", f"Job: `{out_dir}`", "",
             f"- output rows: {stats.rows} ({stats.kind})", f"- input rows seen: {stats.input_rows}",
             f"- waiting for a retry: {stats.pending_retries}; failed for good: {stats.permanent_failures}",
             f"- job done: {stats.done}", ""]  # fmt: skip
    sections = [
        ("Category mix", stats.categories, "category", "category_mix.png"),
        ("Judge scores", stats.judge_scores, "score", "judge_scores.png"),
        ("Pairs per question", stats.pairs_per_question, "pairs", "pairs_per_question.png"),
        ("Failures by step", stats.failure_steps, "step", "failure_reasons.png"),
    ]
    for heading, counts, key, png in sections:
        if heading == "Judge scores" and stats.judge_pass_rate is not None:
            lines += [f"## Judge pass rate: {100 * stats.judge_pass_rate:.1f}% of {stats.rows} rows", ""]
        if not counts:
            continue
        _bar(folder / png, heading.lower(), counts, key)
        lines += [f"## {heading}", "", *_table(counts, key), "", f"![{heading}]({png})", ""]
        if heading == "Category mix" and stats.lengths:
            _histogram(folder / "lengths.png", stats.lengths)
            lines += ["## Length distributions (whitespace words)", "", "| side | rows | mean | median | p90 | max |",
                      "|---|---|---|---|---|---|"]  # fmt: skip
            for side, s in stats.to_dict()["lengths"].items():
                lines.append(f"| {side} | {s['count']} | {s.get('mean', '')} | {s.get('median', '')} | "
                             f"{s.get('p90', '')} | {s.get('max', '')} |")  # fmt: skip
            lines += ["", "![Length distributions](lengths.png)", ""]
    if stats.failure_reasons:
        lines += ["## Most frequent failure reasons", "", "| reason | attempts |", "|---|---|"]
        lines += [f"| {reason.replace('|', '/')} | {n} |" for reason, n in stats.failure_reasons.items()] + [""]
    (folder / "stats.json").write_text(json.dumps(stats.to_dict(), indent=2, default=str))
    path = folder / REPORT_FILE
    path.write_text("\n".join(lines))
    return path


__all__ = ["REPORT_FILE", "JobStats", "job_stats", "write_report"]
