"""`mmreason serve MODEL --vllm_python VENV/bin/python [--port 8000] [--check] [-- VLLM_ARGS ...]`: serve a
checkpoint with vLLM — in vLLM's own environment, with mmreason's plugin — and print the OpenAI base URL.

MODEL in mmreason's or LLaVA-NeXT's format is exported to `llava_onevision` first (`--export_dir`, default
`MODEL-llava_onevision` beside it; reused when present). The vLLM environment must have the plugin
(`pip install -e integrations/vllm`, see `integrations/vllm/README.md`): it is checked before vLLM starts.
`--check` compares the running server with MODEL in-process (`mmreason check-server`) and stops it on a
difference. The command stays in the foreground until interrupted and then stops vLLM.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from .errors import CLIError, check_source, positional, run_command, strict_parse, trl_parser

PLUGIN_CHECK = "import vllm, mmreason_vllm.plugin; print(vllm.__version__)"


@dataclass
class ServeArguments:
    """Arguments of `mmreason serve`."""

    model: str = field(default=None, metadata={"help": "The checkpoint (mmreason, LLaVA-NeXT or llava_onevision)."})
    vllm_python: str = field(default=None, metadata={"help": "The Python of vLLM's environment (with the plugin)."})
    host: str = field(default="127.0.0.1", metadata={"help": "Address vLLM listens on."})
    port: int = field(default=8000, metadata={"help": "Port vLLM listens on."})
    served_model_name: str | None = field(default=None, metadata={"help": "Model name clients send (default: path)."})
    export_dir: str | None = field(default=None, metadata={"help": "Where the llava_onevision export goes."})
    max_images: int = field(default=4, metadata={"help": "Images per prompt (vLLM's --limit-mm-per-prompt)."})
    ready_timeout: float = field(default=900.0, metadata={"help": "Seconds to wait for vLLM to answer."})
    check: bool = field(default=False, metadata={"help": "Compare the server with MODEL in-process once it is up."})


def export_for_vllm(model: Path, export_dir: Path | None) -> Path:
    """The folder vLLM loads: MODEL itself when it is a `llava_onevision` checkpoint, else its export."""
    config = json.loads((model / "config.json").read_text())
    if config.get("model_type") == "llava_onevision":
        return model
    target = export_dir or model.with_name(model.name + "-llava_onevision")
    if not (target / "config.json").exists():
        from ..model.convert import convert_checkpoint

        convert_checkpoint(model, target, to="llava_onevision")
    return target


def wait_ready(base_url: str, process: subprocess.Popen, timeout: float) -> None:
    """Poll `/v1/models` until vLLM answers; `CLIError` when it exits or the time is up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CLIError(f"vLLM exited with status {process.returncode} before it was ready")
        try:
            with urllib.request.urlopen(f"{base_url}/models", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(1.0)
    raise CLIError(f"vLLM did not answer at {base_url} within {timeout:g} s")


def _main(argv: list[str]) -> None:
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    parser = trl_parser((ServeArguments,), prog="mmreason serve")
    (args,) = strict_parse(parser, positional(parser, argv, ("model",)))
    check_source(args.model, "--model", required="the checkpoint to serve")
    if not args.vllm_python or not Path(args.vllm_python).exists():
        raise CLIError("--vllm_python: the python of vLLM's environment is required (vLLM cannot share mmreason's)")
    probe = subprocess.run([args.vllm_python, "-c", PLUGIN_CHECK], capture_output=True, text=True, timeout=300)
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["?"])[-1]
        raise CLIError(f"{args.vllm_python}: vLLM with mmreason's plugin does not import ({last}); "
                       "install it there: pip install -e integrations/vllm")  # fmt: skip
    export = export_for_vllm(Path(args.model), Path(args.export_dir) if args.export_dir else None)
    name = args.served_model_name or str(export)
    command = [args.vllm_python, "-m", "vllm.entrypoints.openai.api_server", "--model", str(export), "--host",
               args.host, "--port", str(args.port), "--served-model-name", name,
               "--limit-mm-per-prompt", json.dumps({"image": args.max_images}), *extra]  # fmt: skip
    process = subprocess.Popen(command)
    base_url = f"http://{args.host}:{args.port}/v1"
    signal.signal(signal.SIGTERM, lambda *_: (process.terminate(), sys.exit(0)))
    try:
        wait_ready(base_url, process, args.ready_timeout)
        if args.check:
            from ..generation.server_check import MULTI_IMAGE_SIZES, check_server

            checks = check_server(base_url, name, args.model, multi_image=args.max_images >= len(MULTI_IMAGE_SIZES))
            if not all(check.ok for check in checks):
                bad = [c.label for c in checks if not c.ok]
                raise CLIError(f"the server does not match {args.model} on {', '.join(bad)}: stopped it")
        print(f"base_url={base_url} model={name} (vLLM {probe.stdout.strip()}, mmreason plugin)", flush=True)
        process.wait()
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


def main(argv: list[str] | None = None) -> None:
    """Entry point of `mmreason serve`."""
    run_command("mmreason serve", _main, argv)


__all__ = ["ServeArguments", "export_for_vllm", "main", "wait_ready"]
