"""Streaming LLaVA-JSON ingest vs `json.load`: rows/s and peak RSS on a generated multi-GB JSON array.

Writes a MAmmoTH-VL-style JSON array (single-image, multi-image and text-only records with long rationales, some
non-ASCII), then, each in a fresh process, measures the text part of ingest (parse + LLaVA → canonical rows,
no media):
  1. imports only (the RSS floor);
  2. `json.load` + `llava_to_canonical` on every record (what LLaVA-NeXT does in every worker);
  3. `JsonRecordReader` + `llava_to_canonical` (mmreason's streaming path);
  4. `JsonRecordReader` alone (parse only);
and repeats 3. on a file a quarter of the size to show that RSS does not grow with the file.

    python benchmarks/bench_ingest.py [--size_gb 1.2] [--path existing.json] [--keep]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import json, re, sys, time
from mmreason.data.json_stream import JsonRecordReader
from mmreason.data.llava import llava_to_canonical
path, mode = sys.argv[1:3]
start, rows = time.perf_counter(), 0
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
seconds = time.perf_counter() - start
peak = int(re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1)) * 1024
print(json.dumps({"rows": rows, "seconds": seconds, "peak": peak}))
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


def record(index: int, rng: random.Random) -> dict:
    kind = rng.random()
    turns = [{"from": "human", "value": "<image>\nWhat is the measure of angle ABC? Explain."}]
    item: dict = {"id": f"{83425 + index}"}
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
            text = ("" if rows == 0 else ",\n") + json.dumps(record(rows, rng), ensure_ascii=False)
            handle.write(text)
            written += len(text.encode())
            rows += 1
        handle.write("\n]\n")
    return rows


def measure(path: Path, mode: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(path), mode], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size_gb", type=float, default=1.2, help="Size of the generated JSON array.")
    parser.add_argument("--path", help="Use this JSON array instead of generating one.")
    parser.add_argument("--keep", action="store_true", help="Keep the generated files.")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench_ingest_"))
    big = Path(args.path) if args.path else folder / "mammoth_si.json"
    if not args.path:
        print(f"writing {args.size_gb:.2f} GB JSON array ...", flush=True)
        write_array(big, int(args.size_gb * 1e9))
    small = folder / "quarter.json"
    write_array(small, big.stat().st_size // 4, seed=1)
    gib = 1 << 30
    floor = measure(big, "imports")["peak"]
    results = {}
    for mode in ("json.load+convert", "stream+convert", "stream parse only"):
        results[mode] = measure(big, mode)
    results["stream+convert (1/4 file)"] = measure(small, "stream+convert")
    rows = results["stream+convert"]["rows"]
    print(f"\nfile {big.stat().st_size / 1e9:.2f} GB, {rows} rows; imports alone {floor / gib:.2f} GiB")
    print(f"{'mode':28} {'rows':>9} {'s':>7} {'rows/s/core':>12} {'peak GiB':>9} {'above imports':>14}")
    for mode, r in results.items():
        rate, peak, extra = r["rows"] / r["seconds"], r["peak"] / gib, (r["peak"] - floor) / gib
        print(f"{mode:28} {r['rows']:>9} {r['seconds']:>7.1f} {rate:>12,.0f} {peak:>9.2f} {extra:>14.2f}")
    naive, stream = results["json.load+convert"], results["stream+convert"]
    speed = (stream["rows"] / stream["seconds"]) / (naive["rows"] / naive["seconds"])
    print(f"\nstreaming vs json.load: peak RSS {stream['peak'] / naive['peak']:.3f}x, throughput {speed:.2f}x")
    rate = stream["rows"] / stream["seconds"]
    print(f"goal RSS <= 0.5 GB: {stream['peak'] / 1e9:.2f} GB -> {'met' if stream['peak'] <= 0.5e9 else 'MISSED'}")
    print(f"goal >= 20k rows/s/core (text part): {rate:,.0f} -> {'met' if rate >= 20_000 else 'MISSED'}")
    print(json.dumps({"file_bytes": big.stat().st_size, "import_floor": floor, **results}))
    if not args.keep:
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()


if __name__ == "__main__":
    main()
