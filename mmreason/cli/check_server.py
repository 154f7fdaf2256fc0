"""`mmreason check-server URL MODEL --checkpoint PATH`: does the server at URL serve MODEL as mmreason runs the
checkpoint? One line per image size (prompt tokens and greedy ids, served vs in-process); exit 1 on a difference."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field

from .errors import CLIError, check_source, run_command, strict_parse, trl_parser


@dataclass
class CheckServerArguments:
    """Arguments of `mmreason check-server`."""

    base_url: str = field(default=None, metadata={"help": "The server, e.g. http://localhost:8000/v1."})
    model: str = field(default=None, metadata={"help": "The served model name."})
    checkpoint: str = field(default=None, metadata={"help": "The checkpoint mmreason runs in-process to compare."})
    api_key: str = field(default="EMPTY", metadata={"help": "API key of the server."})
    max_new_tokens: int = field(default=12, metadata={"help": "Greedy tokens compared per image."})
    multi_image: bool = field(
        default=False,
        metadata={"help": "Also compare one prompt with 3 images (the server needs --limit-mm-per-prompt >= 3)."},
    )
    json: bool = field(default=False, metadata={"help": "Print the comparison as JSON."})


def main(argv: list[str] | None = None) -> None:
    """Entry point of `mmreason check-server`."""
    run_command("mmreason check-server", _main, argv)


def _main(argv: list[str]) -> None:
    from .errors import positional

    parser = trl_parser((CheckServerArguments,), prog="mmreason check-server")
    argv = positional(parser, argv, ("base_url", "model"))
    (args,) = strict_parse(parser, argv)
    if not args.base_url or not args.model:
        raise CLIError("usage: mmreason check-server URL MODEL --checkpoint PATH")
    check_source(args.checkpoint, "--checkpoint", required="the checkpoint the server should be serving")
    from ..generation.server_check import check_server

    checks = check_server(args.base_url, args.model, args.checkpoint, multi_image=args.multi_image,
                          max_new_tokens=args.max_new_tokens, api_key=args.api_key)  # fmt: skip
    if args.json:
        print(json.dumps([{**asdict(c), "ok": c.ok} for c in checks]))
    stream = sys.stderr if args.json else sys.stdout
    for c in checks:
        if c.served_prompt_tokens is None:
            print(f"{c.label}: no answer (in-process {c.expected_prompt_tokens} prompt tokens) — {'; '.join(c.notes)}",
                  file=stream)  # fmt: skip
            continue
        ids = "ids equal" if c.served_ids == c.expected_ids else "ids differ"
        if c.served_ids is None:
            ids = "text equal" if c.served_text == c.expected_text else "text differs"
        print(
            f"{c.label}: prompt tokens {c.served_prompt_tokens} (in-process {c.expected_prompt_tokens}), "
            f"{ids}{' — ' + '; '.join(c.notes) if c.notes else ''}",
            file=stream,
        )
    same = sum(c.ok for c in checks)
    print(f"{same}/{len(checks)} prompts: the server matches the checkpoint", file=stream)
    if same != len(checks):
        raise SystemExit(1)


__all__ = ["CheckServerArguments", "main"]
