"""Peak memory of `mmreason convert` vs loading and re-saving the model, on a multi-GB checkpoint.

Writes a random bf16 checkpoint with real shapes (default: SigLIP-so400m tower + a Qwen2.5-0.5B-size LM, ~0.9B
parameters, ~1.8 GB), then, each in a fresh process, measures peak RSS and wall time of
  1. `convert_checkpoint(src, dst, to="llava_onevision")` (streaming, one output shard in memory), and
  2. the naive route: `MMReasonForConditionalGeneration.from_pretrained(src)` + `save_pretrained(dst)`.

    python benchmarks/bench_convert.py [--text_layers 24] [--shard 500MB]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import torch
from huggingface_hub import split_torch_state_dict_into_shards
from safetensors.torch import save_file

from mmreason import MMReasonConfig, MMReasonForConditionalGeneration, MMReasonProcessor
from mmreason.testing import build_tokenizer

CHILD = """
import re, sys, time, torch
start = time.perf_counter()
src, dst, mode = sys.argv[1:4]
if mode == "baseline":  # imports only
    import mmreason.model.convert  # noqa: F401
elif mode == "stream":
    from mmreason.model.convert import convert_checkpoint
    convert_checkpoint(src, dst, to="llava_onevision", max_shard_size="500MB")
else:
    from mmreason import MMReasonForConditionalGeneration
    MMReasonForConditionalGeneration.from_pretrained(src).save_pretrained(dst, max_shard_size="500MB")
peak = re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1)  # reset at exec
print(int(peak) * 1024, time.perf_counter() - start)
"""


def write_checkpoint(path: Path, text_layers: int, shard: str) -> int:
    tokenizer = build_tokenizer()
    text = {"model_type": "qwen2", "vocab_size": 151936, "hidden_size": 896, "intermediate_size": 4864,
            "num_hidden_layers": text_layers, "num_attention_heads": 14, "num_key_value_heads": 2,
            "tie_word_embeddings": False}  # fmt: skip
    config = MMReasonConfig(text_config=text, image_token_index=151646, video_token_index=151647, dtype="bfloat16")
    with torch.device("meta"):
        names = {k: (v.shape) for k, v in MMReasonForConditionalGeneration(config).state_dict().items()}
    split = split_torch_state_dict_into_shards(
        {k: torch.empty(s, dtype=torch.bfloat16, device="meta") for k, s in names.items()}, max_shard_size=shard
    )
    total = 0
    for filename, keys in split.filename_to_tensors.items():
        tensors = {k: torch.full(names[k], 0.01, dtype=torch.bfloat16) for k in keys}
        total += sum(t.numel() * 2 for t in tensors.values())
        save_file(tensors, str(path / filename), metadata={"format": "pt"})
    index = {"metadata": {"total_size": total}, "weight_map": split.tensor_to_filename}
    (path / "model.safetensors.index.json").write_text(json.dumps(index))
    config.save_pretrained(path)
    MMReasonProcessor.from_model_config(config, tokenizer).save_pretrained(path)
    return total


def measure(src: Path, dst: Path, mode: str) -> tuple[float, float]:
    out = subprocess.run([sys.executable, "-c", CHILD, str(src), str(dst), mode], capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    rss, seconds = out.stdout.split()[-2:]
    return int(rss) / 2**30, float(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text_layers", type=int, default=24)
    parser.add_argument("--shard", default="500MB")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        size = write_checkpoint(src, args.text_layers, args.shard) / 2**30
        base_rss, _ = measure(src, Path(tmp) / "base", "baseline")
        stream_rss, stream_s = measure(src, Path(tmp) / "stream", "stream")
        naive_rss, naive_s = measure(src, Path(tmp) / "naive", "naive")
    print(f"checkpoint: {size:.2f} GiB bf16, shards of {args.shard}")
    print(f"{'route':<44}{'peak RSS GiB':>14}{'seconds':>10}")
    print(f"{'python + torch + transformers (imports)':<44}{base_rss:>14.2f}{'':>10}")
    print(f"{'mmreason convert (streaming)':<44}{stream_rss:>14.2f}{stream_s:>10.1f}")
    print(f"{'from_pretrained + save_pretrained':<44}{naive_rss:>14.2f}{naive_s:>10.1f}")
    above = (stream_rss - base_rss) / size, (naive_rss - base_rss) / size
    print(f"peak RSS above imports / checkpoint size: streaming {above[0]:.2f}, naive {above[1]:.2f}")


if __name__ == "__main__":
    main()
