"""`mmreason convert SRC DST --to {mmreason,llava_onevision,llava_next}`: checkpoint format conversion."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from .errors import check_source, configure_logging, positional, run_command, strict_parse, trl_parser

logger = logging.getLogger("mmreason.convert")


@dataclass
class ConvertArguments:
    """Arguments of `mmreason convert` (source format is auto-detected)."""

    src: str = field(metadata={"help": "Source checkpoint: local folder or Hub repo id."})
    dst: str = field(metadata={"help": "Destination folder."})
    to: str = field(
        default="llava_onevision",
        metadata={"help": "Target format.", "choices": ["mmreason", "llava_onevision", "llava_next"]},
    )
    max_shard_size: str = field(default="5GB", metadata={"help": "Largest safetensors shard written."})
    remote_code: bool = field(
        default=False,
        metadata={
            "help": "With --to mmreason: copy the model code and write auto_map (trust_remote_code / stock trl CLI)."
        },
    )


USAGE = "mmreason convert SRC DST [--to {mmreason,llava_onevision,llava_next}] [--max_shard_size 5GB] [--remote_code]"


def _main(argv: list[str]) -> None:
    parser = trl_parser((ConvertArguments,), prog="mmreason convert", usage=USAGE)
    argv = positional(parser, argv, ("src", "dst"))
    (args,) = strict_parse(parser, argv)
    configure_logging()
    check_source(args.src, "SRC")
    from ..model.convert import convert_checkpoint

    out = convert_checkpoint(
        args.src, args.dst, to=args.to, max_shard_size=args.max_shard_size, remote_code=args.remote_code
    )
    logger.info("Wrote the %s checkpoint to %s", args.to, out)


def main(argv: list[str] | None = None) -> None:
    """`mmreason convert SRC DST [--to FORMAT] [--max_shard_size 5GB] [--remote_code]`."""
    run_command("mmreason convert", _main, argv)
