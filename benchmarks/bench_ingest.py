"""Streaming LLaVA-JSON ingest vs `json.load`: rows/s and peak RSS on a generated multi-GB JSON array.

Writes a MAmmoTH-VL-style JSON array (single-image, ~10% multi-image and ~5% text-only records with 600-2000
character rationales, some non-ASCII, ~20% with a second exchange), seeded and streamed to disk, then, each in a
fresh process, measures the text part of ingest (parse + LLaVA → canonical rows, no media):
  1. imports only (the RSS floor);
  2. `json.load` + `llava_to_canonical` on every record (what LLaVA-NeXT does in every worker);
  3. `JsonRecordReader` + `llava_to_canonical` (mmreason's streaming path);
  4. `JsonRecordReader` alone (parse only);
  5./6. ijson (`yajl2_c` backend, `ijson.items(file, "item", use_float=True)`) + convert, and alone, when ijson is
     installed: the maintained C streaming parser, measured to decide whether to keep the hand-written reader;
and (`--also_small`, on by default) repeats 3. on a file a quarter of the size to show that RSS does not grow with
the file. Timing starts after the imports; rows/s/core divides by max(wall, CPU) seconds, so it is rows/s for these
single-threaded routes. Goals checked for 3.: peak RSS <= 0.5 GB and >= 20k rows/s per core.

    python benchmarks/bench_ingest.py [--size_gb 1.2] [--path existing.json] [--no-also_small] [--keep]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

CHILD = """
import json, re, sys, time
from mmreason.data.json_stream import JsonRecordReader
from mmreason.data.llava import llava_to_canonical
path, mode = sys.argv[1:3]
start, cpu, rows = time.perf_counter(), time.process_time(), 0
if mode == "json.load+convert":
    with open(path, encoding="utf-8") as handle:
        records = json.load(handle)
    for index, record in enumerate(records):
        llava_to_canonical(record, f"row-{index}")
        rows += 1
elif mode == "stream+convert":
    for index, record in enumerate(JsonRecordReader(path)):
        llava_to_canonical(record, f"row-{index}")
        rows += 1
elif mode == "stream parse only":
    for _ in JsonRecordReader(path):
        rows += 1
elif mode.startswith("ijson"):
    import ijson
    with open(path, "rb") as handle:
        for index, record in enumerate(ijson.items(handle, "item", use_float=True, buf_size=4 << 20)):
            if mode == "ijson+convert":
                llava_to_canonical(record, f"row-{index}")
            rows += 1
seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
peak = int(re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1)) * 1024  # reset at exec
print(json.dumps({"rows": rows, "seconds": seconds, "cpu_seconds": cpu, "peak": peak}))
"""

WORDS = ["the", "angle", "triangle", "therefore", "value", "equals", "sum", "area", "radius", "circle", "bar", "chart"]


def rationale(rng: random.Random) -> str:
    sentences = [
        " ".join(rng.choices(WORDS, k=rng.randint(8, 20))).capitalize() + "." for _ in range(rng.randint(6, 22))
    ]
    return (
        " ".join(sentences)
        + f" The angle is {rng.randint(1, 179)}° and π·r² = {rng.random():.3f}.\nAnswer: {rng.randint(0, 99)}"
    )


def record(index: int, rng: random.Random) -> dict[str, Any]:
    kind = rng.random()
    turns = [{"from": "human", "value": "<image>\nWhat is the measure of angle ABC? Explain."}]
    item: dict[str, Any] = {"id": f"{83425 + index}"}
    if kind < 0.05:
        turns[0]["value"] = "Solve for x: 3x + 5 = 20."
    elif kind < 0.15:
        count = rng.randint(2, 4)
        item["image"] = [f"M4-Instruct-Data/nlvr2/images/{index}_{i}.png" for i in range(count)]
        turns[0]["value"] = "<image>\n" * count + "Which image differs?"
    else:
        item["image"] = f"M4-Instruct-Data/HQ-Edit/images/{index}.jpg"
    turns.append({"from": "gpt", "value": rationale(rng)})
    if rng.random() < 0.2:
        turns += [{"from": "human", "value": "And the perimeter?"}, {"from": "gpt", "value": rationale(rng)}]
    item["conversations"] = turns
    return item


def write_array(path: Path, size: int, seed: int = 0) -> int:
    """Stream records into a JSON array of about `size` bytes; returns the row count."""
    rng, rows, written = random.Random(seed), 0, 0
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("[\n")
        while written < size:
            text = ("" if rows == 0 else ",\n") + json.dumps(record(rows, rng), ensure_ascii=False, indent=None)
            handle.write(text)
            written += len(text.encode())
            rows += 1
        handle.write("\n]\n")
    print(f"wrote {path.name}: {path.stat().st_size / 1e9:.2f} GB, {rows:,} rows", flush=True)
    return rows


def measure(path: Path, mode: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-c", CHILD, str(path), mode], capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"{mode} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(big: Path, folder: Path, also_small: bool) -> None:
    gib = 1 << 30
    floor = measure(big, "imports")["peak"]
    modes = ["json.load+convert", "stream+convert", "stream parse only"]
    if importlib.util.find_spec("ijson") is not None:
        modes += ["ijson+convert", "ijson parse only"]
    results = {mode: measure(big, mode) for mode in modes}
    if also_small:
        small = folder / "quarter.json"
        write_array(small, big.stat().st_size // 4, seed=1)
        results["stream+convert (1/4 file)"] = measure(small, "stream+convert")
    print(f"\nfile {big.stat().st_size / 1e9:.2f} GB, {results['stream+convert']['rows']:,} rows; ", end="")
    print(f"imports alone (python + mmreason.data.json_stream/llava) {floor / gib:.2f} GiB peak")
    header = f"{'mode':27}{'rows':>9}{'s':>8}{'CPU s':>8}{'rows/s':>9}{'rows/s/core':>12}{'peak GiB':>10}"
    print(header + f"{'above imports':>15}")
    for mode, r in results.items():
        r["rows_per_s"] = r["rows"] / r["seconds"]
        r["rows_per_s_per_core"] = r["rows"] / max(r["seconds"], r["cpu_seconds"])
        print(
            f"{mode:27}{r['rows']:>9}{r['seconds']:>8.1f}{r['cpu_seconds']:>8.1f}{r['rows_per_s']:>9,.0f}"
            f"{r['rows_per_s_per_core']:>12,.0f}{r['peak'] / gib:>10.2f}{(r['peak'] - floor) / gib:>15.2f}"
        )
    naive, stream = results["json.load+convert"], results["stream+convert"]
    print(
        f"\nstreaming vs json.load: peak RSS {stream['peak'] / naive['peak']:.3f}x "
        f"(above imports {(stream['peak'] - floor) / (naive['peak'] - floor):.3f}x), "
        f"throughput {stream['rows_per_s'] / naive['rows_per_s']:.2f}x"
    )
    if "ijson+convert" in results:
        for ours, theirs in (("stream+convert", "ijson+convert"), ("stream parse only", "ijson parse only")):
            ratio = results[ours]["rows_per_s_per_core"] / results[theirs]["rows_per_s_per_core"]
            print(
                f"{ours} vs {theirs}: {ratio:.2f}x rows/s/core, peak RSS {results[ours]['peak'] / gib:.3f} vs "
                f"{results[theirs]['peak'] / gib:.3f} GiB"
            )
    if also_small:
        small_peak = results["stream+convert (1/4 file)"]["peak"]
        print(f"streaming peak RSS, 1/4 file vs full file: {small_peak / gib:.3f} vs {stream['peak'] / gib:.3f} GiB")
    peak_gb, rate = stream["peak"] / 1e9, stream["rows_per_s_per_core"]
    print(f"goal peak RSS <= 0.5 GB (stream+convert): {peak_gb:.2f} GB -> {'met' if peak_gb <= 0.5 else 'MISSED'}")
    print(f"goal >= 20k rows/s/core (stream+convert): {rate:,.0f} -> {'met' if rate >= 20_000 else 'MISSED'}")
    print(json.dumps({"file_bytes": big.stat().st_size, "import_floor": floor, **results}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size_gb", type=float, default=1.2, help="Size of the generated JSON array (GB, 1e9).")
    parser.add_argument("--path", help="Use this JSON array instead of generating one (never deleted).")
    parser.add_argument("--also_small", action=argparse.BooleanOptionalAction, default=True, help="Quarter file too.")
    parser.add_argument("--keep", action="store_true", help="Keep the generated files (their folder is printed).")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench_ingest_"))
    try:
        big = Path(args.path) if args.path else folder / "mammoth_si.json"
        if not args.path:
            write_array(big, int(args.size_gb * 1e9))
        run(big, folder, args.also_small)
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder)


if __name__ == "__main__":
    main()
