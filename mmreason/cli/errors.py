"""What every `mmreason` command shares: strict argument parsing, one-line errors, offline-first checks, logging.

* Mistakes end in one line, `mmreason <cmd>: error: ...` (exit 2 for usage errors, 1 otherwise); `--debug`
  (anywhere on the command line) shows the traceback instead.
* Flags are never abbreviated (`allow_abbrev=False`) and an unknown flag is refused before anything else runs,
  with the closest valid name.
* A path-looking argument that does not exist fails at once (no Hub retries); a Hub id is only contacted when the
  Hub is reachable and `HF_HUB_OFFLINE` is unset (else the error says what to pass).
* Commands configure the `mmreason` logger only; transformers, TRL and accelerate keep their own defaults.
"""

from __future__ import annotations

import argparse
import difflib
import json
import logging
import os
import socket
import sys
import traceback
import urllib.parse
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

#: file endings that make an argument a path, never a Hub id
PATH_SUFFIXES = (".json", ".jsonl", ".yaml", ".yml", ".parquet", ".arrow", ".tar", ".zip", ".safetensors", ".bin")


class CLIError(Exception):
    """A user mistake: printed as one line, `mmreason <cmd>: error: <message>`."""


def configure_logging(level: int = logging.INFO) -> None:
    """Send mmreason's own log records (`mmreason.*`) to stderr as bare messages; leave the root logger alone."""
    logger = logging.getLogger("mmreason")
    if not any(getattr(handler, "_mmreason_cli", False) for handler in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler._mmreason_cli = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False


def closest(name: str, choices: Iterable[str]) -> str | None:
    """The choice most similar to `name` (difflib), or None."""
    matches = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None


def option_strings(parser: Any) -> set[str]:
    """Every `--flag` an argparse parser accepts."""
    return {option for action in parser._actions for option in action.option_strings}


def check_flags(argv: list[str], known: set[str]) -> None:
    """Refuse the first unknown `--flag` in `argv` (exact names only), naming the closest known one."""
    for token in argv:
        if token == "--":
            break
        if not token.startswith("--") or token in known:
            continue
        flag = token.split("=", 1)[0]
        if flag not in known:
            suggestion = closest(flag, known)
            hint = f" (did you mean {suggestion}?)" if suggestion else ""
            raise CLIError(f"unrecognized argument {flag}{hint}")


def strict_parse(parser: Any, argv: list[str]) -> tuple[Any, ...]:
    """`parser.parse_args_and_config(argv)` after refusing unknown or abbreviated flags."""
    check_flags(argv, option_strings(parser) | {"--config"})  # TrlParser adds --config while parsing
    return parser.parse_args_and_config(argv)


def trl_parser(dataclass_types: tuple[type, ...], prog: str, **kwargs: Any) -> Any:
    """A `TrlParser` that never abbreviates flags."""
    from trl import TrlParser

    parser = TrlParser(dataclass_types, prog=prog, allow_abbrev=False, **kwargs)
    parser.error = _raise_usage_error  # one line, not argparse's usage block
    return parser


def positional(parser: Any, argv: list[str], names: tuple[str, ...]) -> list[str]:
    """Show the fields `names` as positional arguments in `parser`'s help (with their help text), and rewrite the
    leading bare words of `argv` into their `--field=value` form (the fields stay flags too)."""
    for name in names:
        action = next(action for action in parser._actions if action.dest == name and action.option_strings)
        text, action.help = action.help, argparse.SUPPRESS
        text = text.replace(" (default: None)", "")
        parser.add_argument(name.upper(), nargs="?", default=argparse.SUPPRESS, help=text)
    count = 0
    while count < min(len(names), len(argv)) and not argv[count].startswith("-"):
        count += 1
    return [f"--{name}={value}" for name, value in zip(names, argv[:count])] + argv[count:]


def _raise_usage_error(message: str) -> None:
    raise CLIError(message)


def looks_like_path(value: str) -> bool:
    """Whether `value` can only be meant as a local path: absolute, `.`/`~`-relative, a file name with a known
    suffix, no `/` at all (Hub ids are `owner/name`) or more than one `/`."""
    return (
        os.path.isabs(value)
        or value.startswith((".", "~"))
        or "\\" in value
        or value.lower().endswith(PATH_SUFFIXES)
        or value.count("/") != 1
    )


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the Hub endpoint accepts a TCP connection (False at once without DNS/network)."""
    url = urllib.parse.urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    try:
        socket.create_connection((url.hostname or "huggingface.co", url.port or 443), timeout=timeout).close()
    except OSError:
        return False
    return True


def offline() -> bool:
    """`HF_HUB_OFFLINE` (or `TRANSFORMERS_OFFLINE`) is set to a true value."""
    values = (os.environ.get(var, "").upper() for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))
    return any(value in ("1", "ON", "YES", "TRUE") for value in values)


def check_source(value: str | None, flag: str, kind: str = "model", required: str = "") -> None:
    """Check a `--flag` that takes a local path or a Hub id (`kind` "model" or "dataset") before any download.

    Raises `CLIError` for a missing value (with the `required` hint), a path-looking value that does not exist,
    an invalid Hub id, or a Hub id that cannot be fetched (offline and not cached, or the Hub unreachable).
    """
    if not value:
        raise CLIError(f"{flag} is required" + (f": {required}" if required else ""))
    if Path(value).expanduser().exists():
        return
    if looks_like_path(value):
        raise CLIError(f"{flag} {value}: no such file or folder (a Hub id has the form owner/name)")
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(value)
    except HFValidationError:
        raise CLIError(f"{flag} {value}: neither a local path nor a valid Hub id (owner/name)") from None
    if kind == "model" and offline():
        from huggingface_hub import try_to_load_from_cache

        if isinstance(try_to_load_from_cache(value, "config.json"), str):
            return
        raise CLIError(f"{flag} {value}: not in the local Hub cache and HF_HUB_OFFLINE is set; pass a local folder")
    if not offline() and not hub_reachable():
        raise CLIError(
            f"{flag} {value}: the Hub is unreachable; pass a local {kind} folder (or set HF_HUB_OFFLINE=1 to use "
            "the local Hub cache)"
        )


def json_position(path: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of byte `offset` in `path`."""
    line, start, done = 1, 0, 0
    with open(path, "rb") as file:
        while done < offset:
            chunk = file.read(min(1 << 20, offset - done))
            if not chunk:
                break
            newlines = chunk.count(b"\n")
            if newlines:
                line += newlines
                start = done + chunk.rindex(b"\n") + 1
            done += len(chunk)
    return line, offset - start + 1


def describe(error: BaseException) -> str:
    """One line for an exception (JSON errors with their line and column)."""
    from ..data.json_stream import JsonStreamError

    if isinstance(error, JsonStreamError):
        try:
            line, column = json_position(error.path, error.offset)
        except OSError:
            return str(error)
        return f"{error} (line {line}, column {column})"
    if isinstance(error, json.JSONDecodeError):
        return f"invalid JSON: {error.msg} at line {error.lineno}, column {error.colno}"
    if isinstance(error, KeyError):
        return f"missing key {error}"
    text = " ".join(str(error).split()) or type(error).__name__
    return text if isinstance(error, (CLIError, OSError, ValueError)) else f"{type(error).__name__}: {text}"


def subcommand(prog: str, argv: list[str], help_text: str, choices: list[str], kind: str) -> tuple[str, list[str]]:
    """`(name, rest)` of `prog NAME ...`: no argument or `--help` prints `help_text` and exits (2 / 0); a name not
    in `choices` exits 2 with one line naming the closest choice."""
    if not argv or argv[0] in ("-h", "--help"):
        print(help_text)
        raise SystemExit(0 if argv else 2)
    if argv[0] not in choices:
        suggestion = closest(argv[0], choices)
        hint = f" (did you mean {suggestion}?)" if suggestion else ""
        print(f"{prog}: error: unknown {kind} {argv[0]!r}{hint}; choose from {', '.join(choices)}", file=sys.stderr)
        raise SystemExit(2)
    return argv[0], argv[1:]


def run_command(prog: str, func: Callable[[list[str]], Any], argv: list[str] | None) -> Any:
    """Run `func(argv)` as `prog`: mistakes become one line on stderr (traceback only with `--debug`)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv[: argv.index("--")] if "--" in argv else "--debug" in argv
    if debug:
        argv.remove("--debug")
    try:
        return func(argv)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    except SystemExit:
        raise
    except Exception as error:
        if debug:
            traceback.print_exc()
        print(f"{prog}: error: {describe(error)}", file=sys.stderr)
        raise SystemExit(2 if isinstance(error, CLIError) else 1) from None
