"""`mmreason eval --model PATH --benchmark mathvista_testmini --data DIR_OR_REPO [--limit N]`.

Generation runs in-process with transformers, or against an OpenAI-compatible server with `--base_url` (e.g. a
vLLM-served export: `vllm serve export/ --port 8000`, then `--base_url http://localhost:8000/v1 --model export`).
Predictions are appended to `<output_dir>/<benchmark>/predictions.jsonl`, so a rerun resumes; scores, a
per-category table, a PNG plot and `results.json` (with Hub `.eval_results` entries) are written next to them.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..eval.benchmarks import BENCHMARKS
from .errors import (
    CLIError,
    check_source,
    configure_logging,
    hub_reachable,
    offline,
    run_command,
    strict_parse,
    trl_parser,
)

if TYPE_CHECKING:
    from ..eval.judge import Judge

logger = logging.getLogger("mmreason.eval")


@dataclass
class EvalArguments:
    """Arguments of `mmreason eval`."""

    model: str = field(metadata={"help": "Checkpoint path/Hub id, or the served model name with --base_url."})
    benchmark: str = field(metadata={"help": "Benchmark to run.", "choices": sorted(BENCHMARKS)})
    data: str | None = field(default=None, metadata={"help": "Local benchmark folder or Hub id (default: Hub)."})
    limit: int | None = field(default=None, metadata={"help": "Only the first N rows."})
    output_dir: str = field(default="eval-results", metadata={"help": "Where predictions and reports go."})
    modes: list[str] = field(default_factory=lambda: ["strict", "official"], metadata={"help": "Scorer modes."})
    base_url: str | None = field(default=None, metadata={"help": "OpenAI-compatible server, e.g. .../v1."})
    api_key: str = field(default="EMPTY", metadata={"help": "API key of the server."})
    batch_size: int = field(default=8, metadata={"help": "transformers: conversations per generate call."})
    concurrency: int = field(default=8, metadata={"help": "server: parallel requests."})
    max_new_tokens: int = field(default=1024, metadata={"help": "Generation budget."})
    dtype: str = field(default="auto", metadata={"help": "transformers: model dtype."})
    attn_implementation: str | None = field(default=None, metadata={"help": "transformers: sdpa, flash_attention_2."})
    served_config: str | None = field(
        default=None, metadata={"help": "server: the served model's folder/config.json (default: vLLM's listed root)."}
    )
    allow_geometry_mismatch: bool = field(
        default=False, metadata={"help": "server: evaluate a model vLLM serves with another image geometry."}
    )
    on_mismatch: str = field(
        default="error",
        metadata={"help": "Output folder made with another model/settings: error, or new_folder.",
                  "choices": ["error", "new_folder"]},
    )  # fmt: skip
    judge_base_url: str | None = field(
        default=None, metadata={"help": "LLM judge for `official` (OpenAI-compatible endpoint, e.g. .../v1)."}
    )
    judge_model: str | None = field(default=None, metadata={"help": "The judge's model name (with --judge_base_url)."})
    judge_api_key_env: str = field(
        default="OPENAI_API_KEY", metadata={"help": "Environment variable holding the judge's key (unset: EMPTY)."}
    )


def main(argv: list[str] | None = None) -> None:
    """Entry point of `mmreason eval`."""
    run_command("mmreason eval", _main, argv)


def _main(argv: list[str]) -> None:
    (args,) = strict_parse(trl_parser((EvalArguments,), prog="mmreason eval"), argv)
    configure_logging()
    if not args.base_url:
        check_source(args.model, "--model")
    if args.data:
        check_source(args.data, "--data", kind="dataset")
    elif offline() or not hub_reachable():
        raise CLIError("--data is required offline (HF_HUB_OFFLINE set or the Hub unreachable): pass a local copy")
    judge = _judge(args)
    from ..eval.runner import run_eval
    from ..generation import OpenAIBackend, TransformersBackend

    if args.base_url:
        backend = OpenAIBackend(
            args.base_url, args.model, args.api_key, args.max_new_tokens, concurrency=args.concurrency,
            served_config=args.served_config, allow_geometry_mismatch=args.allow_geometry_mismatch,
        )  # fmt: skip
    else:
        backend = TransformersBackend(
            args.model, args.batch_size, args.max_new_tokens, dtype=args.dtype,
            attn_implementation=args.attn_implementation,
        )  # fmt: skip
    results = run_eval(
        args.benchmark, backend, args.output_dir, data=args.data, limit=args.limit, modes=tuple(args.modes),
        model_name=args.model, on_mismatch=args.on_mismatch, judge=judge,
    )  # fmt: skip
    from ..eval.report import accuracy_text, summary

    shown = {mode: accuracy_text(m) for mode, m in results["metrics"].items()}
    logger.info("%s accuracy (%%): %s (%d/%d rows)", args.benchmark, shown, results["answered"], results["rows"])
    # accuracy as a fraction in [0, 1] (None: the mode decided nothing), the unit of results.json and `evaluate`
    print(json.dumps({"benchmark": args.benchmark, "accuracy": summary(results), "missing": results["missing"],
                      "partial": results["partial"]}))  # fmt: skip


def _judge(args: EvalArguments) -> Judge | None:
    """The `--judge_*` flags' `mmreason.eval.judge.Judge`, or `None` without `--judge_base_url`."""
    if (args.judge_base_url is None) != (args.judge_model is None):
        raise CLIError("--judge_base_url and --judge_model go together")
    if args.judge_base_url is None:
        return None
    from ..eval.judge import Judge, JudgeClient

    api_key = os.environ.get(args.judge_api_key_env) or "EMPTY"
    return Judge(JudgeClient(args.judge_base_url, args.judge_model, api_key), concurrency=args.concurrency)
