"""`mmreason synth PIPELINE --input ROWS --out JOB_DIR (--base_url URL --model NAME | --model CHECKPOINT)`.

Runs one synthesis pipeline as a resumable job (`mmreason.synth.run_job`): Parquet shards under `JOB_DIR/data/`,
failures in `failures.jsonl` (retried by the next run), then the data report (`JOB_DIR/report/report.md` + PNGs).
Rerunning the same command resumes; changed settings or input are refused unless `--allow_changed`.

Pipelines: `mammoth-rewrite` (categorize → rewrite → judge), `mmpr-pairs` (correctness pairs), `dropout-ntp`
(DropoutNTP pairs), `puma-pairs` (Math-PUMA renders; no model); `mmreason synth report JOB_DIR` rewrites a job's
report. `--input` is a Parquet file, a folder of Parquet shards (`mmreason data prepare` output, or another job's
folder) or a JSON Lines file of canonical rows.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from .errors import CLIError, check_source, configure_logging, run_command, strict_parse, subcommand, trl_parser

logger = logging.getLogger("mmreason.synth")

PIPELINES = {
    "mammoth-rewrite": "MAmmoTH-VL rewrite + model-as-judge filter (canonical rows with judge columns).",
    "mmpr-pairs": "MMPR correctness pairs: N CoT samples per question, checked against the ground truth.",
    "dropout-ntp": "MMPR DropoutNTP pairs: the chosen response's second half continued without the image.",
    "puma-pairs": "Math-PUMA pairs: the question rendered into its image at four levels (no model needed).",
}
NO_MODEL = ("puma-pairs",)
HELP = "\n".join([
    "usage: mmreason synth PIPELINE --input ROWS --out JOB_DIR (--base_url URL --model NAME | --model CHECKPOINT) ...",
    "       mmreason synth report JOB_DIR",
    "",
    "pipelines:",
    *(f"  {name:<16} {text}" for name, text in PIPELINES.items()),
    "  web              VisualWebInstruct web mining: search, harvest, fetch, extract, refine (`synth web --help`).",
    "  report           Rewrite the data report of a job folder.",
    "",
    "`mmreason synth PIPELINE --help` lists the flags.",
])  # fmt: skip


@dataclass
class SynthArguments:
    """Arguments of `mmreason synth PIPELINE`."""

    input: str = field(default=None, metadata={"help": "Input rows: Parquet file/folder or JSON Lines."})
    out: str = field(default=None, metadata={"help": "The job folder (resumed when it exists)."})
    model: str = field(default=None, metadata={"help": "Checkpoint path, or the served model name with --base_url."})
    base_url: str | None = field(default=None, metadata={"help": "OpenAI-compatible server, e.g. .../v1."})
    api_key: str = field(default="EMPTY", metadata={"help": "API key of the server(s)."})
    text_model: str | None = field(
        default=None, metadata={"help": "mammoth-rewrite: the text LLM for caption-only rows (default --model)."}
    )
    text_base_url: str | None = field(default=None, metadata={"help": "Server of --text_model (default --base_url)."})
    concurrency: int = field(default=16, metadata={"help": "server: parallel requests."})
    batch_size: int = field(default=32, metadata={"help": "Rows per stage call (commit granularity)."})
    max_new_tokens: int = field(default=1024, metadata={"help": "Generation budget per request."})
    temperature: float | None = field(
        default=None, metadata={"help": "Sampling temperature (default: 1.0 for mmpr-pairs/dropout-ntp, 0 else)."}
    )
    num_samples: int = field(default=8, metadata={"help": "mmpr-pairs: samples per question (InternVL: 32)."})
    max_pairs: int = field(default=15, metadata={"help": "mmpr-pairs: pairs per question and kind."})
    math_verify: bool = field(default=False, metadata={"help": "mmpr-pairs: also accept math-verify matches."})
    start_ratio: float = field(default=0.5, metadata={"help": "dropout-ntp: share of the response kept as prefix."})
    keep_rejected: bool = field(default=True, metadata={"help": "mammoth-rewrite: keep judge-rejected rows."})
    limit: int | None = field(default=None, metadata={"help": "Only the first N input rows."})
    workers: int = field(default=1, metadata={"help": "Parallel workers (datatrove's local executor when > 1)."})
    allow_changed: bool = field(default=False, metadata={"help": "Resume although settings or input changed."})
    fresh: bool = field(default=False, metadata={"help": "Discard the job folder's previous outputs."})
    report: bool = field(default=True, metadata={"help": "Write the data report after the run."})
    render_size: int = field(default=768, metadata={"help": "puma-pairs: rendered image width and height (px)."})
    seed: int = field(default=0, metadata={"help": "puma-pairs: seed of each row's text position."})


def main(argv: list[str] | None = None) -> None:
    """Entry point of `mmreason synth`."""
    argv = list(sys.argv[1:] if argv is None else argv)
    name, rest = subcommand("mmreason synth", argv, HELP, [*PIPELINES, "web", "report"], "pipeline")
    if name == "report":
        run_command("mmreason synth report", _report_main, rest)
        return
    if name == "web":
        from .synth_web import main as web_main

        web_main(rest)
        return
    run_command(f"mmreason synth {name}", lambda a: _main(name, a), rest)


def _report_main(argv: list[str]) -> None:
    if len(argv) != 1 or argv[0].startswith("-"):
        raise CLIError("usage: mmreason synth report JOB_DIR")
    if not (Path(argv[0]) / "state.json").exists() and not list(Path(argv[0]).glob("rank-*/state.json")):
        raise CLIError(f"{argv[0]}: not a synthesis job folder (no state.json)")
    from ..synth.report import write_report

    print(write_report(argv[0]))


def _check(args: SynthArguments, name: str = "") -> None:
    for flag in ("input", "out") if name in NO_MODEL else ("input", "out", "model"):
        if not getattr(args, flag):
            raise CLIError(f"--{flag} is required")
    if not Path(args.input).exists():
        raise CLIError(f"--input {args.input}: no such file or folder")
    if not args.base_url and name not in NO_MODEL:
        check_source(args.model, "--model")
    if args.text_base_url and not args.text_model:
        raise CLIError("--text_base_url needs --text_model")
    for flag in ("concurrency", "batch_size", "max_new_tokens", "num_samples", "max_pairs", "workers"):
        if getattr(args, flag) < 1:
            raise CLIError(f"--{flag} must be at least 1")
    if not 0 < args.start_ratio < 1:
        raise CLIError("--start_ratio must be in (0, 1)")


def _main(name: str, argv: list[str]) -> None:
    (args,) = strict_parse(trl_parser((SynthArguments,), prog=f"mmreason synth {name}"), argv)
    _check(args, name)
    configure_logging()
    files = input_files(args.input)
    stage = build_stage(name, args)
    from ..synth import run_job

    summary = run_job(stage, partial(read_input, files, args.limit), args.out, batch_size=args.batch_size,
                      resume=not args.fresh, allow_changed=args.allow_changed, workers=args.workers)  # fmt: skip
    if args.report:
        from ..synth.report import write_report

        logger.info("report: %s", write_report(args.out, title=f"mmreason synth {name}"))
    print(json.dumps(summary.to_dict()))


def input_files(path: str) -> list[Path]:
    """The Parquet or JSON Lines files of `--input` (a file, or a folder searched recursively for Parquet)."""
    root = Path(path)
    if root.is_file():
        if root.suffix not in (".parquet", ".jsonl", ".json"):
            raise CLIError(f"--input {path}: want a .parquet or .jsonl file, or a folder of Parquet shards")
        return [root]
    files = sorted(root.rglob("*.parquet"))
    if not files:
        raise CLIError(f"--input {path}: no Parquet files in the folder")
    return files


def read_input(files: list[Path], limit: int | None = None) -> Any:
    """The input rows as a `datasets.Dataset` (images decoded to PIL from Parquet; paths from JSON Lines)."""
    import datasets

    if files[0].suffix == ".parquet":
        from ..synth.outputs import read_parquet_rows

        rows = read_parquet_rows(files)
    else:
        rows = datasets.Dataset.from_json([str(f) for f in files])
    return rows.select(range(min(limit, len(rows)))) if limit is not None else rows


def _backend(args: SynthArguments, model: str, base_url: str | None) -> Any:
    from ..generation import OpenAIBackend, TransformersBackend

    if base_url:
        return OpenAIBackend(base_url, model, args.api_key, args.max_new_tokens, concurrency=args.concurrency)
    return TransformersBackend(model, batch_size=min(args.batch_size, 8), max_new_tokens=args.max_new_tokens)


def build_stage(name: str, args: SynthArguments) -> Any:
    """The pipeline's stage for the parsed arguments."""
    if name == "puma-pairs":
        from ..synth.pipelines.puma_pairs import PumaPairsStage
        from ..synth.render import RenderStyle

        return PumaPairsStage(style=RenderStyle(width=args.render_size, height=args.render_size), seed=args.seed)
    backend = _backend(args, args.model, args.base_url)
    sampled = 1.0 if args.temperature is None else args.temperature
    if name == "mmpr-pairs":
        from ..synth.pipelines.mmpr_pairs import MMPRCorrectnessStage

        return MMPRCorrectnessStage(backend, num_samples=args.num_samples, temperature=sampled,
                                    max_new_tokens=args.max_new_tokens, max_pairs=args.max_pairs,
                                    math_verify=args.math_verify)  # fmt: skip
    if name == "dropout-ntp":
        from ..synth.pipelines.dropout_ntp import DropoutNTPStage

        return DropoutNTPStage(backend, start_ratio=args.start_ratio, temperature=sampled,
                               max_new_tokens=args.max_new_tokens)  # fmt: skip
    from ..synth.pipelines.mammoth_rewrite import MammothRewriteStage

    text = _backend(args, args.text_model, args.text_base_url or args.base_url) if args.text_model else None
    return MammothRewriteStage(backend, text_llm=text, temperature=args.temperature or 0.0,
                               max_new_tokens=args.max_new_tokens, keep_rejected=args.keep_rejected)  # fmt: skip


__all__ = ["PIPELINES", "SynthArguments", "build_stage", "input_files", "main", "read_input"]
