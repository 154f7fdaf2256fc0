"""VisualWebInstruct's mining pipeline as five chained synthesis jobs ([`mine`], [`MiningConfig`]):

    out/
      search/   seeds → links              (SearchStage, a search backend)
      urls/     links → unique URL rows    (harvest: normalise, dedupe, blocklist, top-domain skip, caps)
      pages/    URL rows → page trees      (FetchStage: guarded fetcher + accessibility tree)
      qa/       pages → QA rows + images   (ExtractStage: extraction model + image localisation)
      rows/     QA rows → canonical rows   (RefineStage: validity, consistency, alignment) ← train on this
      report/   report.md                  (funnel, refusals, domains, subjects; `mmreason.synth.web.report`)
      pipeline.json

Every stage is a job of the engine (`mmreason.synth.run_job`): committed shard by shard, resumable after
`kill -9` with nothing lost or duplicated, failures recorded with their reasons, `workers > 1` on datatrove.
A stage starts when the one before it is finished: its job is rerun up to `retry_rounds` more times while rows
wait for a retry, then its committed shards are *frozen* (listed in `pipeline.json`): the next stage reads exactly
those, on every later run, so its input never changes under it. Rows still failing then are given up (their
reasons stay in the job's `failures.jsonl` and the report); `mine(..., fresh=True)` starts over.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..outputs import job_data_files, read_parquet_rows
from ..runner import run_job
from ..stage import JobSummary, StageFailure
from ..state import write_json_atomic
from .fetch import FetchPolicy
from .images import ImageRules
from .tree import TreeLimits
from .urls import HarvestConfig, harvest

logger = logging.getLogger(__name__)
STAGES = ("search", "urls", "pages", "qa", "rows")
PIPELINE_FILE = "pipeline.json"
HARVEST_FILE = "harvest.json"


@dataclass
class MiningConfig:
    """One mining run.

    Attributes:
        search: the search backend (`mmreason.synth.web.search`).
        extract_backend: the extraction model; `refine_backend`: validity, answers, alignment (default: the
            extraction model); `judge_backend`: the consistency judge (default: `refine_backend`).
        harvest: the URL rules; `policy`: the fetcher's limits; `tree`: the tree's caps; `images`: image rules.
        num_answers, consistency: the consistency refinement.
        until: the last stage to run (one of [`STAGES`]).
        batch_sizes: rows per stage call (the commit unit) per stage.
        workers: parallel workers of each job (datatrove's local executor when > 1).
        retry_rounds: extra runs of a stage while rows wait for a retry, before it is frozen.
        allow_changed: go on although a job's settings changed (recorded in its state).
    """

    search: Any = None
    extract_backend: Any = None
    refine_backend: Any = None
    judge_backend: Any = None
    harvest: HarvestConfig = field(default_factory=HarvestConfig)
    policy: FetchPolicy = field(default_factory=FetchPolicy)
    tree: TreeLimits = field(default_factory=TreeLimits)
    images: ImageRules = field(default_factory=ImageRules)
    num_answers: int = 4
    consistency: str = "all"
    until: str = "rows"
    batch_sizes: dict[str, int] = field(default_factory=lambda: {"search": 32, "urls": 10_000, "pages": 256,
                                                                  "qa": 16, "rows": 16})  # fmt: skip
    workers: int = 1
    retry_rounds: int = 2
    allow_changed: bool = False


class HarvestStage:
    """The URL rows computed by [`harvest`], committed as a job (so the stages after it read a job folder)."""

    name = "web-harvest"

    def __init__(self, config: HarvestConfig) -> None:
        import datasets

        self.config = config
        text = datasets.Value("string")
        self.features = datasets.Features({"id": text, "url": text, "key": text, "domain": text,
                                           "seed_ids": datasets.List(text)})  # fmt: skip

    def settings(self) -> dict[str, Any]:
        """The harvest rules (the seen-before keys by count and digest)."""
        import hashlib

        seen = hashlib.sha256("\n".join(sorted(self.config.seen)).encode()).hexdigest()
        return {"blocklist": sorted(self.config.blocklist), "skip_top_domains": self.config.skip_top_domains,
                "max_per_domain": self.config.max_per_domain, "seen": [len(self.config.seen), seen]}  # fmt: skip

    def process_batch(self, rows: list[dict[str, Any]]) -> list[list[dict[str, Any]] | StageFailure]:
        """Each URL row as it is."""
        return [[row] for row in rows]


def read_rows(files: list[Path]) -> Any:
    """A job's frozen shards as a `datasets.Dataset` (empty shards left out: `read_parquet_rows`)."""
    return read_parquet_rows(files)


def seen_keys(folders: list[str | Path]) -> frozenset[str]:
    """The URL keys of earlier runs' `urls/` jobs (or whole mining folders), to harvest only new URLs."""
    import pyarrow.parquet as pq

    keys: set[str] = set()
    for folder in folders:
        root = Path(folder) / "urls" if (Path(folder) / "urls").is_dir() else Path(folder)
        for path in job_data_files(root):
            keys.update(pq.read_table(path, columns=["key"]).column("key").to_pylist())
    return frozenset(keys)


class _Pipeline:
    def __init__(self, out: Path, config: MiningConfig, fresh: bool) -> None:
        self.out, self.config, self.fresh = out, config, fresh
        self.state_path = out / PIPELINE_FILE
        out.mkdir(parents=True, exist_ok=True)
        self.state = (
            {"frozen": {}} if fresh or not self.state_path.exists() else json.loads(self.state_path.read_text())
        )

    def frozen(self, stage: str) -> list[Path] | None:
        files = self.state["frozen"].get(stage)
        return None if files is None else [self.out / name for name in files]

    def run(self, stage: str, build: Callable[[], Any], rows: Callable[[], Any]) -> JobSummary | None:
        """Run (resume) one stage's job until it has no pending retries or the rounds are spent; freeze it."""
        if self.frozen(stage) is not None:
            return None
        config, summary = self.config, None
        for _round in range(1 + config.retry_rounds):
            summary = run_job(build(), rows, self.out / stage, batch_size=config.batch_sizes.get(stage, 32),
                              resume=not (self.fresh and _round == 0), allow_changed=config.allow_changed,
                              workers=config.workers)  # fmt: skip
            if summary.pending_retries == 0:
                break
        files = [str(path.relative_to(self.out)) for path in job_data_files(self.out / stage)]
        self.state["frozen"][stage] = files
        write_json_atomic(self.state_path, self.state)
        logger.info("%s: %d rows, %d failed for good, %d given up after retries", stage, summary.output_rows,
                    summary.permanent_failures, summary.pending_retries)  # fmt: skip
        return summary


def mine(out: str | Path, config: MiningConfig, fresh: bool = False) -> dict[str, Any]:
    """Run (or resume) the mining pipeline into `out` up to `config.until`; returns each stage's summary
    (`None` for stages already frozen) and writes the report."""
    from .extract import ExtractStage
    from .pages import FetchStage
    from .refine import RefineStage
    from .search import SearchStage

    if config.until not in STAGES:
        raise ValueError(f"until must be one of {', '.join(STAGES)}, not {config.until!r}")
    out = Path(out)
    pipeline = _Pipeline(out, config, fresh)
    stages = STAGES[: STAGES.index(config.until) + 1]
    summaries: dict[str, Any] = {}

    def upstream(stage: str) -> Callable[[], Any]:
        return lambda: read_rows(pipeline.frozen(STAGES[STAGES.index(stage) - 1]) or [])

    refine = config.refine_backend or config.extract_backend
    jobs = {
        "search": (lambda: SearchStage(config.search), lambda: config.search.seeds()),
        "urls": (lambda: HarvestStage(config.harvest), lambda: _harvest(pipeline)),
        "pages": (lambda: FetchStage(config.policy, config.tree), upstream("pages")),
        "qa": (lambda: ExtractStage(config.extract_backend, config.policy, config.images), upstream("qa")),
        "rows": (lambda: RefineStage(refine, config.judge_backend, config.num_answers, config.consistency),
                 upstream("rows")),
    }  # fmt: skip
    for stage in stages:
        summaries[stage] = pipeline.run(stage, *jobs[stage])
    from .report import write_mining_report

    write_mining_report(out)
    return {name: None if summary is None else summary.to_dict() for name, summary in summaries.items()}


def _harvest(pipeline: _Pipeline) -> list[dict[str, Any]]:
    """The URL rows of the frozen search job (and the harvest's statistics, written once beside the job)."""
    links = read_rows(pipeline.frozen("search") or [])
    pairs = [(row["seed_id"], link) for row in links for link in row["links"]]
    rows, stats = harvest(pairs, pipeline.config.harvest)
    (pipeline.out / "urls").mkdir(parents=True, exist_ok=True)
    write_json_atomic(pipeline.out / "urls" / HARVEST_FILE, asdict(stats))
    return rows


__all__ = ["HARVEST_FILE", "PIPELINE_FILE", "STAGES", "HarvestStage", "MiningConfig", "mine", "read_rows",
           "seen_keys"]  # fmt: skip
