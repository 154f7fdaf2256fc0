#!/usr/bin/env bash
# One real `lmms-eval --model mmreason` evaluation in a fresh venv, on mmreason's shipped lmms-eval tasks
# (mmreason/eval/lmms_tasks) pointed at local data, with a tiny model saved by mmreason.testing.build_tiny.
# Fails (non-zero) if the [lmms] install replaces torch, or if lmms-eval writes no results file with both modes'
# metrics (lmms-eval itself exits 0 on some failures, so the results file is what counts).
# Usage: .ci/lmms_check.sh [workdir]   (without a workdir, a temporary one is used and removed afterwards)
# TORCH_PAIR: the torch + torchvision installed first, which [lmms] must keep. Default: this CI machine's local pair
# (a CUDA build that runs on the CPU); elsewhere e.g.
#   TORCH_PAIR="torch==2.13.0 torchvision==0.28.0 --index-url https://download.pytorch.org/whl/cpu"
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
if [ $# -ge 1 ]; then work=$1; else work=$(mktemp -d); trap 'rm -rf "$work"' EXIT; fi
mkdir -p "$work"
venv=$work/venv
export HF_HOME=$work/hf HF_DATASETS_CACHE=$work/hf/datasets HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1
export TOKENIZERS_PARALLELISM=false PIP_DISABLE_PIP_VERSION_CHECK=1
start=$SECONDS
pip_install() {  # pip without the "Location ... is ignored" noise of a pip.conf naming absent local indexes
  "$venv/bin/pip" install -q "$@" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
}
versions() { "$venv/bin/python" -c "import importlib.metadata as m; print(m.version('torch'), m.version('torchvision'))"; }

python -m venv "$venv"
# shellcheck disable=SC2086  # TORCH_PAIR is a list of pip arguments
pip_install ${TORCH_PAIR:-torch==2.14.1 torchvision==0.29.1}
before=$(versions)
pip_install -e "$root[lmms]"
after=$(versions)
if [ "$before" != "$after" ]; then echo "FAIL: pip install mmreason[lmms] replaced torch/torchvision $before with $after"; exit 1; fi
"$venv/bin/pip" check || true
echo "lmms venv: torch/torchvision $after kept, $(du -sh "$venv" | cut -f1), install $((SECONDS - start)) s"

"$venv/bin/python" - "$work" <<'PY'
import sys
from pathlib import Path

from mmreason.testing import build_tiny
from tests.eval.lmms_fixtures import write_local_tasks

work = Path(sys.argv[1])
model, processor = build_tiny(seed=0)
model.save_pretrained(work / "tiny")
processor.save_pretrained(work / "tiny")
write_local_tasks(work)
PY

eval_start=$SECONDS
rm -rf "$work/out"
"$venv/bin/lmms-eval" --model mmreason --model_args "pretrained=$work/tiny,dtype=float32" \
  --include_path "$work/tasks" --tasks mathvista_local,mmmu_local --batch_size 1 \
  --output_path "$work/out" --log_samples 2>&1 | tail -n 40
echo "lmms-eval run: $((SECONDS - eval_start)) s"

"$venv/bin/python" - "$work/out" <<'PY'
# The results file has both modes' accuracy and flag counts for every task, over every row, and they agree with
# the per-sample verdicts lmms-eval logged (accuracy = mean of `correct`, each count = sum of its per-sample flags).
import json
import sys
from pathlib import Path

out = Path(sys.argv[1])
files = sorted(out.rglob("*results.json"))
if not files:
    sys.exit(f"FAIL: lmms-eval wrote no results file under {out}")
report = json.loads(files[-1].read_text())
results = report["results"]
expected = {"mathvista_local": 4, "mmmu_local": 3}
for task, rows in expected.items():
    metrics = results.get(task)
    if not metrics:
        sys.exit(f"FAIL: no results for {task}: {sorted(results)}")
    if report["n-samples"][task]["effective"] != rows:
        sys.exit(f"FAIL: {task} evaluated {report['n-samples'][task]} rows, not {rows}")
    samples = sorted(out.rglob(f"*samples_{task}.jsonl"))
    logged = [json.loads(line) for line in samples[-1].read_text().splitlines()] if samples else []
    if len(logged) != rows:
        sys.exit(f"FAIL: {len(logged)} logged samples for {task}, not {rows}")
    for mode in ("official", "strict"):
        value = metrics.get(f"{mode}_acc,none")
        correct = [sample[f"{mode}_acc"]["correct"] for sample in logged]
        if not isinstance(value, (int, float)) or abs(value - sum(correct) / rows) > 1e-9:
            sys.exit(f"FAIL: {task} {mode}_acc is {value!r}; the logged verdicts give {sum(correct)}/{rows}")
        counts = {key.split(",")[0]: v for key, v in metrics.items()
                  if key.startswith(f"{mode}_") and key.endswith(",none") and isinstance(v, int)}  # fmt: skip
        if not counts:
            sys.exit(f"FAIL: {task} has no {mode} flag counts: {sorted(metrics)}")
        for flag, count in counts.items():
            if count != sum(sample[flag] for sample in logged):
                sys.exit(f"FAIL: {task} {flag} is {count}, the logged samples sum to another number")
print("lmms-eval results:", json.dumps({t: {k: v for k, v in results[t].items() if "stderr" not in k}
                                        for t in expected}, sort_keys=True))  # fmt: skip
PY
echo "lmms check total: $((SECONDS - start)) s"
