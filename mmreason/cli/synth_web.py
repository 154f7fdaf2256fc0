"""`mmreason synth web STAGE --seeds SEEDS --out DIR --base_url URL --model NAME ...`: VisualWebInstruct's web
mining (`mmreason.synth.web`).

Stages, each running (resuming) the pipeline up to and including it: `search` (seeds → links), `harvest` (→
unique URLs), `fetch` (→ page trees), `extract` (→ QA items + images; needs a model), `refine` (→ canonical rows;
needs a model); `run` = all of them; `report` rewrites `DIR/report/report.md`. Rerunning a command resumes it.

Seeds (`--seeds`, the search backend from `--search` or guessed): a folder of saved SerpAPI replies
(`serpapi-saved`), a text file of page URLs (`urls`), or a text file of image URLs searched with Google Lens via
SerpAPI (`--search serpapi`, key in `SERPAPI_API_KEY`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import CLIError, configure_logging, run_command, strict_parse, subcommand, trl_parser

logger = logging.getLogger("mmreason.synth.web")
STAGES = {"search": "search", "harvest": "urls", "fetch": "pages", "extract": "qa", "refine": "rows", "run": "rows"}
NEEDS_MODEL = ("extract", "refine", "run")
HELP = """usage: mmreason synth web STAGE --seeds SEEDS --out DIR [--base_url URL --model NAME] ...
       mmreason synth web report DIR

stages (each runs the pipeline up to it, resuming what is done):
  search    seeds -> links (search backend)
  harvest   links -> unique URLs (normalised, deduplicated, blocklist, caps)
  fetch     URLs -> pages (guarded fetcher) -> accessibility trees
  extract   pages -> QA items + localised images (model)
  refine    QA items -> canonical rows: validity, consistency, alignment (model)
  run       all of the above
  report    rewrite DIR/report/report.md

`mmreason synth web STAGE --help` lists the flags."""


@dataclass
class WebArguments:
    """Arguments of `mmreason synth web STAGE`."""

    out: str = field(default=None, metadata={"help": "The mining folder (resumed when it exists)."})
    seeds: str = field(default=None, metadata={"help": "Saved SerpAPI folder, URL list, or image-URL list."})
    search: str | None = field(default=None, metadata={"help": "serpapi-saved | urls | serpapi (default: guessed)."})
    serpapi_endpoint: str = field(default="https://serpapi.com/search.json", metadata={"help": "SerpAPI URL."})
    serpapi_interval: float = field(default=1.0, metadata={"help": "Seconds between SerpAPI requests."})
    blocklist: str | None = field(default=None, metadata={"help": "File of domains never fetched, one per line."})
    skip_top_domains: int = field(default=50, metadata={"help": "Skip the N most frequent domains (seed: 50)."})
    max_per_domain: int | None = field(default=None, metadata={"help": "At most N URLs per domain."})
    exclude_seen: list[str] = field(
        default_factory=list, metadata={"help": "Earlier mining folders: skip their URLs."}
    )
    allow_network: list[str] = field(
        default_factory=list, metadata={"help": "Non-public networks allowed anyway (e.g. 127.0.0.1)."}
    )
    resolve: list[str] = field(default_factory=list, metadata={"help": "HOST=ADDRESS answers without DNS."})
    max_bytes: int = field(default=5 << 20, metadata={"help": "Page body cap (bytes)."})
    max_image_bytes: int = field(default=10 << 20, metadata={"help": "Image body cap (bytes)."})
    timeout: float = field(default=30.0, metadata={"help": "Seconds per fetch, redirects included."})
    max_redirects: int = field(default=5, metadata={"help": "Redirect hops followed."})
    fetch_concurrency: int = field(default=64, metadata={"help": "Fetches in flight."})
    per_domain: int = field(default=10, metadata={"help": "Fetches in flight per domain."})
    robots: bool = field(default=True, metadata={"help": "Honour robots.txt."})
    max_images_per_page: int = field(default=200, metadata={"help": "Image nodes kept per page tree."})
    model: str | None = field(default=None, metadata={"help": "Extraction model: served name or checkpoint."})
    base_url: str | None = field(default=None, metadata={"help": "OpenAI-compatible server of --model."})
    api_key: str = field(default="EMPTY", metadata={"help": "API key of the server(s)."})
    refine_model: str | None = field(default=None, metadata={"help": "MLLM of the refine stage (default --model)."})
    refine_base_url: str | None = field(default=None, metadata={"help": "Server of --refine_model."})
    concurrency: int = field(default=16, metadata={"help": "Model requests in flight."})
    max_new_tokens: int = field(default=4096, metadata={"help": "Extraction reply budget."})
    num_answers: int = field(default=4, metadata={"help": "Answers sampled per question (consistency)."})
    consistency: str = field(default="all", metadata={"help": "all | majority: which agreement keeps a question."})
    model_batch_size: int = field(default=16, metadata={"help": "Rows per model stage call."})
    fetch_batch_size: int = field(default=256, metadata={"help": "URLs per fetch stage call."})
    retry_rounds: int = field(default=2, metadata={"help": "Extra runs of a stage while rows wait for a retry."})
    workers: int = field(default=1, metadata={"help": "Parallel workers per stage (datatrove when > 1)."})
    allow_changed: bool = field(default=False, metadata={"help": "Resume although settings changed."})
    fresh: bool = field(default=False, metadata={"help": "Start the mining folder over."})


def main(argv: list[str]) -> None:
    """Entry point of `mmreason synth web`."""
    name, rest = subcommand("mmreason synth web", argv, HELP, [*STAGES, "report"], "stage")
    if name == "report":
        run_command("mmreason synth web report", _report, rest)
        return
    run_command(f"mmreason synth web {name}", lambda a: _run(name, a), rest)


def _report(argv: list[str]) -> None:
    if len(argv) != 1 or argv[0].startswith("-"):
        raise CLIError("usage: mmreason synth web report DIR")
    if not (Path(argv[0]) / "pipeline.json").exists():
        raise CLIError(f"{argv[0]}: not a mining folder (no pipeline.json)")
    from ..synth.web.report import write_mining_report

    print(write_mining_report(argv[0]))


def _search_backend(args: WebArguments) -> Any:
    from ..synth.web.search import SavedSerpAPI, SerpAPILens, URLList

    seeds = Path(args.seeds)
    kind = args.search or ("serpapi-saved" if seeds.is_dir() else "urls")
    if kind == "serpapi-saved":
        return SavedSerpAPI(seeds)
    if kind == "urls":
        return URLList(seeds)
    if kind == "serpapi":
        lines = [line.strip() for line in seeds.read_text(errors="replace").splitlines()]
        try:
            return SerpAPILens([u for u in lines if u and not u.startswith("#")], endpoint=args.serpapi_endpoint,
                               min_interval=args.serpapi_interval)  # fmt: skip
        except ValueError as error:
            raise CLIError(str(error)) from error
    raise CLIError(f"--search {kind}: choose serpapi-saved, urls or serpapi")


def _backend(args: WebArguments, model: str, base_url: str | None) -> Any:
    from ..generation import OpenAIBackend, TransformersBackend

    if base_url:
        return OpenAIBackend(base_url, model, args.api_key, args.max_new_tokens, concurrency=args.concurrency,
                             system_prompt=None)  # fmt: skip
    return TransformersBackend(model, batch_size=min(args.model_batch_size, 8), max_new_tokens=args.max_new_tokens)


def _check(args: WebArguments, stage: str) -> None:
    if not args.out:
        raise CLIError("--out is required")
    resumed = (Path(args.out) / "pipeline.json").exists() and "search" in json.loads(
        (Path(args.out) / "pipeline.json").read_text()
    ).get("frozen", {})
    if not args.seeds and not resumed:
        raise CLIError("--seeds is required (a saved SerpAPI folder, a URL list, or image URLs with --search serpapi)")
    if args.seeds and not Path(args.seeds).exists():
        raise CLIError(f"--seeds {args.seeds}: no such file or folder")
    if stage in NEEDS_MODEL and not args.model:
        raise CLIError(f"`{stage}` needs --model (with --base_url for a served model)")
    if args.consistency not in ("all", "majority"):
        raise CLIError("--consistency must be all or majority")
    if bad := [spec for spec in args.resolve if "=" not in spec]:
        raise CLIError(f"--resolve {bad[0]}: want HOST=ADDRESS")
    for flag in ("fetch_concurrency", "per_domain", "concurrency", "num_answers", "model_batch_size",
                 "fetch_batch_size", "workers", "max_redirects"):  # fmt: skip
        if getattr(args, flag) < (0 if flag == "max_redirects" else 1):
            raise CLIError(f"--{flag} must be at least {0 if flag == 'max_redirects' else 1}")


def build_config(args: WebArguments, stage: str) -> Any:
    """The [`MiningConfig`] of parsed arguments."""
    from ..synth.web.addresses import networks
    from ..synth.web.fetch import FetchPolicy
    from ..synth.web.pipeline import MiningConfig, seen_keys
    from ..synth.web.tree import TreeLimits
    from ..synth.web.urls import HarvestConfig

    try:
        networks(args.allow_network)
    except ValueError as error:
        raise CLIError(f"--allow_network: {error}") from error
    blocklist: frozenset[str] = frozenset()
    if args.blocklist:
        text = Path(args.blocklist).read_text(errors="replace")
        blocklist = frozenset(line.strip().lower().removeprefix("www.") for line in text.splitlines()
                              if line.strip() and not line.startswith("#"))  # fmt: skip
    policy = FetchPolicy(
        allow_networks=list(args.allow_network), resolve=dict(spec.split("=", 1) for spec in args.resolve),
        max_bytes=args.max_bytes, max_image_bytes=args.max_image_bytes, timeout=args.timeout,
        max_redirects=args.max_redirects, concurrency=args.fetch_concurrency, per_domain=args.per_domain,
        robots=args.robots,
    )  # fmt: skip
    models = stage in NEEDS_MODEL
    extract = _backend(args, args.model, args.base_url) if models else None
    refine = None
    if models and args.refine_model:
        refine = _backend(args, args.refine_model, args.refine_base_url or args.base_url)
    batches = {"search": 32, "urls": 10_000, "pages": args.fetch_batch_size, "qa": args.model_batch_size,
               "rows": args.model_batch_size}  # fmt: skip
    return MiningConfig(
        search=_search_backend(args) if args.seeds else None, extract_backend=extract, refine_backend=refine,
        harvest=HarvestConfig(blocklist=blocklist, skip_top_domains=args.skip_top_domains,
                              max_per_domain=args.max_per_domain, seen=seen_keys(args.exclude_seen)),
        policy=policy, tree=TreeLimits(max_images=args.max_images_per_page), num_answers=args.num_answers,
        consistency=args.consistency, until=STAGES[stage], batch_sizes=batches, workers=args.workers,
        retry_rounds=args.retry_rounds, allow_changed=args.allow_changed,
    )  # fmt: skip


def _run(stage: str, argv: list[str]) -> None:
    (args,) = strict_parse(trl_parser((WebArguments,), prog=f"mmreason synth web {stage}"), argv)
    _check(args, stage)
    configure_logging()
    from ..synth.web.pipeline import mine

    summaries = mine(args.out, build_config(args, stage), fresh=args.fresh)
    logger.info("report: %s", Path(args.out) / "report" / "report.md")
    print(json.dumps({name: s and {k: s[k] for k in ("output_rows", "permanent_failures", "pending_retries")}
                      for name, s in summaries.items()}))  # fmt: skip


__all__ = ["STAGES", "WebArguments", "build_config", "main"]
