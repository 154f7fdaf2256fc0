"""`mmreason convert SRC DST --to {mmreason,llava_onevision,llava_next}`: checkpoint format conversion."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from trl import TrlParser

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


def main(argv: list[str] | None = None) -> None:
    """`mmreason convert SRC DST [--to FORMAT] [--max_shard_size 5GB] [--remote_code]`."""
    argv = list(argv or [])
    positional = [a for a in argv[:2] if not a.startswith("-")]
    argv = [f"--{name}={value}" for name, value in zip(("src", "dst"), positional)] + argv[len(positional) :]
    (args,) = TrlParser((ConvertArguments,), prog="mmreason convert").parse_args_and_config(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from ..model.convert import convert_checkpoint

    out = convert_checkpoint(
        args.src, args.dst, to=args.to, max_shard_size=args.max_shard_size, remote_code=args.remote_code
    )
    logger.info("Wrote the %s checkpoint to %s", args.to, out)
