"""The data report of a mining run ([`mining_stats`], [`write_mining_report`]): `out/report/report.md` and
`stats.json`.

* **funnel** — rows in and out of every stage: seeds → links → unique URLs (what each harvest rule removed) →
  pages → QA items → training rows;
* **refusals and rejections** — every row that did not make it through a stage, by reason (the last attempt of
  rows still waiting for a retry, and every non-retryable failure: fetch refusals, rejected questions), with
  URLs, numbers and addresses folded so equal causes count together;
* **images** — kept per QA item, and dropped ones by reason;
* **domains** — harvested URLs, fetched pages and training rows per domain; **subjects** — training rows per
  subject (the validity filter's `SUBJECT:`), and how answers were aligned with the web page's.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

from ..outputs import job_data_files, read_failures
from ..state import STATE_FILE, JobState, write_json_atomic
from .pipeline import HARVEST_FILE, STAGES

_FOLD = (
    (re.compile(r"https?://\S+|ftp://\S+"), "<url>"),
    (re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b|\[?[0-9a-f]*:[0-9a-f:]+\]?"), "<address>"),
    (re.compile(r"'[^']*'|\"[^\"]*\""), "<text>"),
    (re.compile(r"\d+(?:\.\d+)?"), "N"),
)


def fold(reason: str) -> str:
    """A failure reason with URLs, addresses, quoted text and numbers replaced, so equal causes count together."""
    for pattern, replacement in _FOLD:
        reason = pattern.sub(replacement, reason)
    return reason[:160]


def final_failures(job: Path) -> list[dict[str, Any]]:
    """The failure records of the rows a job did not produce: the last attempt of each row still pending, and every
    non-retryable failure."""
    pending: set[tuple[str, int]] = set()
    for folder in [job, *sorted(job.glob("rank-*"))]:
        if (folder / STATE_FILE).exists():
            rank = folder.name if folder != job else ""
            pending |= {(rank, index) for index in JobState.load(folder / STATE_FILE).pending}
    last: dict[tuple[str, int], dict] = {}
    permanent = []
    for record in read_failures(job):
        key = (f"rank-{record['rank']:05d}" if "rank" in record else "", record["index"])
        if not record.get("retryable", True):
            permanent.append(record)
        last[key] = record
    return permanent + [record for key, record in last.items() if key in pending and record.get("retryable", True)]


def _column(job: Path, name: str) -> list[Any]:
    import pyarrow.parquet as pq

    values: list[Any] = []
    for path in job_data_files(job):
        if name in pq.read_schema(path).names:
            values += pq.read_table(path, columns=[name]).column(name).to_pylist()
    return values


def _lengths(job: Path, name: str) -> list[int]:
    """The length of a list column per row (the media bytes are not read into Python)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    lengths: list[int] = []
    for path in job_data_files(job):
        column = pq.read_table(path, columns=[name]).column(name)
        lengths += pc.fill_null(pc.list_value_length(column), 0).to_pylist()
    return lengths


def mining_stats(out: str | Path) -> dict[str, Any]:
    """The report's numbers for a mining folder."""
    import pyarrow.parquet as pq

    out = Path(out)
    stats: dict[str, Any] = {"stages": {}, "failures": {}}
    for stage in STAGES:
        job = out / stage
        if not job.is_dir():
            continue
        summary = json.loads((job / "summary.json").read_text()) if (job / "summary.json").exists() else {}
        failures = final_failures(job)
        output_rows = sum(pq.ParquetFile(path).metadata.num_rows for path in job_data_files(job))
        stats["stages"][stage] = {"input_rows": summary.get("input_rows", 0), "output_rows": output_rows,
                                  "failed": len(failures)}  # fmt: skip
        stats["failures"][stage] = dict(Counter(fold(r["reason"]) for r in failures).most_common())
    if (out / "search").is_dir():
        stats["links"] = sum(len(links) for links in _column(out / "search", "links"))
    if (out / "urls" / HARVEST_FILE).exists():
        stats["harvest"] = json.loads((out / "urls" / HARVEST_FILE).read_text())
    if (out / "pages").is_dir():
        stats["pages_per_domain"] = dict(Counter(_column(out / "pages", "domain")).most_common())
        stats["truncated_pages"] = sum(bool(t) for t in _column(out / "pages", "truncated"))
    if (out / "qa").is_dir():
        notes = [note for row in _column(out / "qa", "image_notes") for note in row]
        kept = _lengths(out / "qa", "question_images")
        dropped = Counter(fold(note.split(": ", 1)[-1]) for note in notes)
        stats["images"] = {"question_images_kept": sum(kept), "items_with_images": sum(k > 0 for k in kept),
                           "dropped": dict(dropped.most_common())}  # fmt: skip
    if (out / "rows").is_dir():
        stats["subjects"] = dict(Counter(_column(out / "rows", "subject")).most_common())
        stats["rows_per_domain"] = dict(Counter(_column(out / "rows", "domain")).most_common())
        aligned = Counter({True: "aligned", False: "web answer kept", None: "no verdict"}[v]
                          for v in _column(out / "rows", "is_aligned"))  # fmt: skip
        stats["alignment"] = dict(aligned)
    return stats


def _table(title: str, counts: dict[str, Any], header: tuple[str, str] = ("", "rows"), limit: int = 25) -> list[str]:
    if not counts:
        return []
    lines = [f"### {title}", "", f"| {header[0]} | {header[1]} |", "|---|---:|"]
    lines += [f"| {str(key).replace('|', '/')} | {value} |" for key, value in list(counts.items())[:limit]]
    if len(counts) > limit:
        lines.append(f"| ... {len(counts) - limit} more | |")
    return [*lines, ""]


def write_mining_report(out: str | Path) -> Path:
    """Write `out/report/report.md` and `stats.json`; returns the markdown's path."""
    out = Path(out)
    stats = mining_stats(out)
    folder = out / "report"
    folder.mkdir(parents=True, exist_ok=True)
    write_json_atomic(folder / "stats.json", stats)
    lines = ["# Web mining report", "", "## Funnel", "", "| stage | in | out | not through |", "|---|---:|---:|---:|"]
    for stage, numbers in stats["stages"].items():
        lines.append(f"| {stage} | {numbers['input_rows']} | {numbers['output_rows']} | {numbers['failed']} |")
    lines.append("")
    if "links" in stats:
        lines += [f"Links found by search: {stats['links']}.", ""]
    if harvest := stats.get("harvest"):
        removed = {rule: harvest[rule] for rule in ("invalid", "duplicates", "seen_before", "blocked", "top_domain",
                                                    "over_domain_cap")}  # fmt: skip
        lines += _table("Harvest: links removed, by rule", removed, ("rule", "links"))
        lines += [f"Unique URLs {harvest['unique']}, kept {harvest['kept']}; top domains skipped: "
                  f"{', '.join(harvest['skipped_domains'][:10]) or 'none'}.", ""]  # fmt: skip
    lines.append("## Refusals and rejections")
    lines.append("")
    if stats.get("truncated_pages"):
        lines += [f"Pages cut by the tree's limits (images, text, elements, nesting): {stats['truncated_pages']}.", ""]
    for stage, reasons in stats["failures"].items():
        lines += _table(f"{stage}", reasons, ("reason", "rows"))
    if images := stats.get("images"):
        lines += ["## Images", "", f"Question images kept: {images['question_images_kept']} "
                  f"(on {images['items_with_images']} QA items).", ""]  # fmt: skip
        lines += _table("Dropped images, by reason", images["dropped"], ("reason", "images"))
    lines += ["## Domains and subjects", ""]
    if harvest:
        lines += _table("Harvested URLs per domain", harvest["domains"], ("domain", "URLs"))
    lines += _table("Fetched pages per domain", stats.get("pages_per_domain", {}), ("domain", "pages"))
    lines += _table("Training rows per domain", stats.get("rows_per_domain", {}), ("domain", "rows"))
    lines += _table("Training rows per subject", stats.get("subjects", {}), ("subject", "rows"))
    lines += _table("Answers", stats.get("alignment", {}), ("alignment with the web answer", "rows"))
    path = folder / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path


__all__ = ["final_failures", "fold", "mining_stats", "write_mining_report"]
