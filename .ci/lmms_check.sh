#!/usr/bin/env bash
# One real `lmms-eval --model mmreason` evaluation in a fresh venv, on mmreason's shipped lmms-eval tasks
# (mmreason/eval/lmms_tasks) pointed at local data, with a tiny model saved by mmreason.testing.build_tiny.
# Fails (non-zero) if the [lmms] install replaces torch, or if lmms-eval writes no results file with both modes'
# metrics (lmms-eval itself exits 0 on some failures, so the results file is what counts).
# Usage: .ci/lmms_check.sh [workdir]   (TORCH_PIN overrides the torch to keep, default 2.13.0)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=${1:-$(mktemp -d)}
mkdir -p "$work"
venv=$work/venv
export HF_HOME=$work/hf HF_DATASETS_CACHE=$work/hf/datasets HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1
export TOKENIZERS_PARALLELISM=false
start=$SECONDS

python -m venv "$venv"
"$venv/bin/pip" install -q "torch==${TORCH_PIN:-2.13.0}"
before=$("$venv/bin/python" -c "import torch; print(torch.__version__)")
"$venv/bin/pip" install -q -e "$root[lmms]"
after=$("$venv/bin/python" -c "import torch; print(torch.__version__)")
if [ "$before" != "$after" ]; then echo "FAIL: pip install mmreason[lmms] replaced torch $before with $after"; exit 1; fi
"$venv/bin/pip" check || true
echo "lmms venv: torch $after kept, $(du -sh "$venv" | cut -f1), install $((SECONDS - start)) s"

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
import json
import sys
from pathlib import Path

files = sorted(Path(sys.argv[1]).rglob("*results.json"))
if not files:
    sys.exit(f"FAIL: lmms-eval wrote no results file under {sys.argv[1]}")
results = json.loads(files[-1].read_text())["results"]
expected = {"mathvista_local": 4, "mmmu_local": 3}
for task, rows in expected.items():
    metrics = results.get(task)
    if not metrics:
        sys.exit(f"FAIL: no results for {task}: {sorted(results)}")
    for mode in ("official", "strict"):
        value = metrics.get(f"{mode}_acc,none")
        if not isinstance(value, (int, float)) or not 0 <= value <= 1:
            sys.exit(f"FAIL: {task} {mode}_acc is {value!r}")
    if "strict_no_answer,none" not in metrics:
        sys.exit(f"FAIL: {task} has no flag counts: {sorted(metrics)}")
samples = sorted(Path(sys.argv[1]).rglob("*mathvista_local*.jsonl"))
if not samples or len(samples[-1].read_text().splitlines()) != expected["mathvista_local"]:
    sys.exit(f"FAIL: logged samples for mathvista_local: {samples}")
print("lmms-eval results:", json.dumps({t: results[t] for t in expected}, sort_keys=True))
PY
echo "lmms check total: $((SECONDS - start)) s"
