"""`mmreason data {prepare,validate,export-llava}`: corpus preparation, validation and LLaVA JSON export.

mmreason data prepare mammoth-vl --source MAmmoTH-VL/MAmmoTH-VL-Instruct-12M --out mammoth-vl --subsets si
mmreason data prepare visualwebinstruct --source /data/VisualWebInstruct --out vwi
mmreason data prepare llava --source my_data.json --media_dirs images/ --out my_data
mmreason data prepare mmpr --source /data/MMPR-v1.2 --out mmpr        # meta.json + annotations/ + images.zip
mmreason data prepare math-puma --source Stage2/Synthesis/train.json --out puma_synthesis
mmreason data validate mammoth-vl --dataset_config si --processor MAmmoTH-VL/MAmmoTH-VL-8B --out report
mmreason data export-llava mammoth-vl --dataset_config si --out si.json --media_folder images/
"""

from __future__ import annotations

import itertools
import json
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .errors import (
    CLIError,
    check_source,
    configure_logging,
    positional,
    run_command,
    strict_parse,
    subcommand,
    trl_parser,
)

logger = logging.getLogger("mmreason.data")

PROCESSOR_HINT = (
    "pass the model or processor folder (or Hub id) whose tokenizer and image geometry count the tokens, e.g. "
    "the checkpoint you will train: --processor MAmmoTH-VL/MAmmoTH-VL-8B"
)
USAGE = {
    "prepare": "mmreason data prepare CORPUS --source SOURCE --out OUT [--subsets NAME ...] [--key value ...]",
    "validate": "mmreason data validate DATA --processor MODEL [--dataset_config si] [--out REPORT] [--key value ...]",
    "export-llava": "mmreason data export-llava DATA --out data.json [--media_folder DIR] [--key value ...]",
}


@dataclass
class PrepareArguments:
    """Arguments of `mmreason data prepare CORPUS`."""

    corpus: str = field(
        metadata={"help": "mammoth-vl, visualwebinstruct, llava (any LLaVA JSON/JSONL), rows (mmreason's rows), "
                  "mmpr (OpenGVLab/MMPR: meta.json folder), preference (JSONL) or math-puma (Stage-2 JSON)."}
    )  # fmt: skip
    source: str = field(metadata={"help": "Raw corpus: local folder (or a JSON file for `llava`) or Hub repo id."})
    out: str = field(
        metadata={"help": "Output folder (Parquet shards + README.md); a rerun of the same source/options resumes."}
    )
    subsets: list[str] = field(default_factory=list, metadata={"help": "Subsets (default: all present)."})
    media_dirs: list[str] = field(default_factory=list, metadata={"help": "Extra image folders or archives."})
    shard_rows: int = field(default=50_000, metadata={"help": "Most rows per Parquet shard."})
    shard_size_mb: int = field(default=512, metadata={"help": "Shard size target (media bytes) in MB."})
    index_cache_dir: str | None = field(default=None, metadata={"help": "Where archive indexes are cached."})
    check_images: bool = field(default=True, metadata={"help": "Drop rows whose image does not decode fully."})
    max_drop_fraction: float = field(
        default=0.5, metadata={"help": "Exit non-zero if a subset keeps no rows or drops more than this fraction."}
    )
    overwrite: bool = field(
        default=False,
        metadata={"help": "Discard the subsets' earlier shards/logs in --out (needed if source/options changed)."},
    )
    seed: int = field(default=0, metadata={"help": "mmpr: seed of the repeat_time < 1 sub-sampling."})
    sampling: str = field(
        default="random",
        metadata={"help": "mmpr: repeat_time < 1 keeps a seeded random subset or the first records.",
                  "choices": ["random", "first"]},
    )  # fmt: skip


@dataclass
class DataSourceArguments:
    """Which rows: a prepared folder / Hub dataset (with `config`, `split`) or a LLaVA JSON/JSONL file."""

    data: str = field(metadata={"help": "Prepared folder or Hub dataset, or a LLaVA .json/.jsonl file."})
    dataset_config: str | None = field(default=None, metadata={"help": "Dataset config (subset), e.g. si."})
    split: str = field(default="train", metadata={"help": "Split."})
    media_dirs: list[str] = field(default_factory=list, metadata={"help": "LLaVA JSON: image folders/archives."})
    limit: int | None = field(default=None, metadata={"help": "Only the first N rows."})


@dataclass
class ValidateArguments(DataSourceArguments):
    """Arguments of `mmreason data validate DATA`."""

    processor: str | None = field(
        default=None,
        metadata={"help": "Required: the model or processor folder (or Hub id) whose tokenizer and image geometry "
                  "count tokens, e.g. the checkpoint you will train (MAmmoTH-VL/MAmmoTH-VL-8B)."},
    )  # fmt: skip
    out: str = field(default="validation-report", metadata={"help": "Report folder."})
    max_length: int | None = field(default=8192, metadata={"help": "Token budget (si 8192, ov 16384)."})
    max_drop_fraction: float = field(
        default=0.5, metadata={"help": "Exit non-zero if no row is kept or more than this fraction would be dropped."}
    )
    image_check: str = field(
        default="full", metadata={"help": "full (decode) or header.", "choices": ["full", "header"]}
    )
    max_frames: int = field(default=32, metadata={"help": "Frames counted per video (frames_upbound)."})


@dataclass
class ExportArguments(DataSourceArguments):
    """Arguments of `mmreason data export-llava DATA`."""

    out: str = field(default="data.json", metadata={"help": "LLaVA JSON (.json array) or JSONL (.jsonl) file."})
    media_folder: str | None = field(default=None, metadata={"help": "Write embedded media bytes here."})


def check_data(args: DataSourceArguments) -> None:
    """Refuse a missing DATA file/folder or an unreachable Hub dataset before anything is loaded."""
    if args.data and args.data.endswith((".json", ".jsonl")) and not Path(args.data).is_file():
        raise CLIError(f"DATA {args.data}: no such file")
    check_source(args.data, "DATA", kind="dataset")


def iter_source(args: DataSourceArguments, decode: bool = False):
    """Rows of `args.data`: a LLaVA JSON/JSONL file via a media store, else `load_dataset(..., streaming=True)`
    with media kept as `{"bytes", "path"}` (validation decodes them itself)."""
    if args.data.endswith((".json", ".jsonl")):
        from ..data.media import MediaStore
        from ..data.validate import llava_rows

        media = MediaStore([*args.media_dirs])
        media.add(Path(args.data).parent, archives=False)
        rows = llava_rows(args.data, media)
    else:
        import datasets

        dataset = datasets.load_dataset(args.data, args.dataset_config, split=args.split, streaming=True)
        if not decode:
            for column in ("images", "videos"):
                feature = dataset.features[column].feature if dataset.features and column in dataset.features else None
                if feature is not None:
                    dataset = dataset.cast_column(column, datasets.List(type(feature)(decode=False)))
        rows = iter(dataset)
    return itertools.islice(rows, args.limit) if args.limit else rows


def prepare_main(argv: list[str]) -> None:
    parser = trl_parser((PrepareArguments,), prog="mmreason data prepare", usage=USAGE["prepare"])
    (args,) = strict_parse(parser, positional(parser, argv, ("corpus",)))
    check_source(args.source, "--source", kind="dataset")
    from ..data.builders import CORPORA, llava_json_spec, looks_like_rows, rows_spec
    from ..data.builders.math_puma import math_puma_spec
    from ..data.builders.mmpr import MMPRMetaError, mmpr_spec, preference_jsonl_spec
    from ..data.prepare import PrepareMismatchError, TooManyDropsError, check_drops, prepare_corpus

    if args.corpus == "llava" and looks_like_rows(args.source):
        logger.info("%s holds mmreason rows (`messages` with content parts): preparing it as `rows`", args.source)
        args.corpus = "rows"
    if args.corpus == "rows":
        spec, source = rows_spec(args.source)
    elif args.corpus == "llava":
        spec, source = llava_json_spec(args.source)
    elif args.corpus == "mmpr":
        spec, source = mmpr_spec(args.source, seed=args.seed, sampling=args.sampling)
    elif args.corpus == "preference":
        spec, source = preference_jsonl_spec(args.source)
    elif args.corpus == "math-puma":
        spec, source = math_puma_spec(args.source)
    elif args.corpus in CORPORA:
        spec, source = CORPORA[args.corpus], args.source
    else:
        choices = [*CORPORA, "llava", "rows", "mmpr", "preference", "math-puma"]
        raise SystemExit(f"unknown corpus {args.corpus!r}; choose from {choices}")
    try:
        states = prepare_corpus(
            spec,
            source,
            args.out,
            subsets=args.subsets or None,
            shard_rows=args.shard_rows,
            shard_bytes=args.shard_size_mb << 20,
            media_dirs=tuple(args.media_dirs),
            index_cache_dir=args.index_cache_dir,
            check_images=args.check_images,
            overwrite=args.overwrite,
        )
    except (PrepareMismatchError, MMPRMetaError) as error:
        raise SystemExit(f"mmreason data prepare: {error}") from None
    for name, state in states.items():
        logger.info("%s: %d rows in %d shards, dropped %s", name, state.rows, state.shards, dict(state.drops))
    try:
        check_drops(states, args.out, args.max_drop_fraction)
    except TooManyDropsError as error:
        raise SystemExit(f"mmreason data prepare: {error}") from None
    logger.info("Wrote %s (load with datasets.load_dataset(%r, <subset>))", Path(args.out) / "README.md", args.out)


def validate_main(argv: list[str]) -> None:
    parser = trl_parser((ValidateArguments,), prog="mmreason data validate", usage=USAGE["validate"])
    (args,) = strict_parse(parser, positional(parser, argv, ("data",)))
    check_data(args)
    check_source(args.processor, "--processor", required=PROCESSOR_HINT)
    from ..data.validate import RowValidator, validate_rows
    from ..model import MMReasonProcessor

    processor = MMReasonProcessor.from_pretrained(args.processor)
    validator = RowValidator(processor, args.max_length, args.image_check, args.max_frames)
    report = validate_rows(iter_source(args), validator)
    out = report.write(args.out, args.max_length)
    summary = report.summary(args.max_length)
    logger.info("%d rows, %d to drop %s; report in %s", summary["rows"], summary["dropped"], summary["issues"], out)
    print(json.dumps({key: summary[key] for key in ("rows", "kept", "dropped", "issues", "tokens")}))
    if summary["kept"] == 0 or summary["dropped"] > args.max_drop_fraction * summary["rows"]:
        raise SystemExit(
            f"mmreason data validate: {summary['kept']} of {summary['rows']} rows kept, {summary['dropped']} to drop "
            f"(more than --max_drop_fraction {args.max_drop_fraction:g}) {summary['issues']}; every dropped row "
            f"and why: {Path(out) / 'dropped.jsonl'}"
        )


def export_main(argv: list[str]) -> None:
    parser = trl_parser((ExportArguments,), prog="mmreason data export-llava", usage=USAGE["export-llava"])
    (args,) = strict_parse(parser, positional(parser, argv, ("data",)))
    check_data(args)
    from ..data.llava import write_llava_json

    count = write_llava_json(iter_source(args), args.out, args.media_folder)
    logger.info("Wrote %d records to %s", count, args.out)


SUBCOMMANDS = {
    "prepare": (prepare_main, "corpus"),
    "validate": (validate_main, "data"),
    "export-llava": (export_main, "data"),
}


HELP = "\n".join(
    [
        "usage: mmreason data {prepare,validate,export-llava} ... (`mmreason data SUBCOMMAND --help` for its flags)",
        "",
        "subcommands:",
        "  prepare       Prepare a corpus (mammoth-vl, visualwebinstruct, llava, rows, mmpr, preference, math-puma)"
        " as Parquet shards + a card.",
        "  validate      Check rows (messages, media, chat template, token budget) with a processor; write a report.",
        "  export-llava  Write rows as LLaVA JSON/JSONL (+ media files), the format LLaVA-NeXT trains on.",
        "",
        *(f"  {usage}" for usage in USAGE.values()),
    ]
)


def main(argv: list[str] | None = None) -> None:
    """`mmreason data {prepare,validate,export-llava} POSITIONAL [--key value ...]`."""
    argv = list(sys.argv[1:] if argv is None else argv)
    subcommand("mmreason data", argv, HELP, list(SUBCOMMANDS), "subcommand")
    run, positional = SUBCOMMANDS[argv[0]]
    rest = argv[1:]
    if rest and not rest[0].startswith("-"):
        rest = [f"--{positional}={rest[0]}", *rest[1:]]
    configure_logging()
    run_command(f"mmreason data {argv[0]}", run, rest)
