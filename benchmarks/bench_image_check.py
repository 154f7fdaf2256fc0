"""Cost of the image inspector per image: `inspect_image` header vs full check, against `load_rgb` and bare Pillow.

The images are `mmreason.testing.make_image` (noisy gradients: photo-like entropy) at 384x384 and 2000x1500, as
JPEG (quality 90) and PNG, given as bytes (what `data prepare`, `data validate` and SFT hygiene check). Single
thread; the median of `--rounds` rounds.

    python benchmarks/bench_image_check.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Callable

from PIL import Image

from mmreason.model.image_io import inspect_image, load_rgb
from mmreason.testing import make_image

SIZES = [(384, 384), (2000, 1500)]
FORMATS = {"JPEG": {"quality": 90}, "PNG": {}}


def _pillow_full(data: bytes) -> None:
    Image.open(io.BytesIO(data)).load()


METHODS: dict[str, Callable[[bytes], object]] = {
    "inspect header": lambda data: inspect_image(data, check="header"),
    "inspect full": lambda data: inspect_image(data, check="full"),
    "load_rgb": load_rgb,
    "Pillow open+load": _pillow_full,
}


def microseconds_per_image(method: Callable[[bytes], object], data: bytes, rounds: int) -> float:
    # enough repeats that one round takes ~0.2 s
    start = time.perf_counter()
    method(data)
    repeats = max(1, int(0.2 / max(time.perf_counter() - start, 1e-6)))
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeats):
            method(data)
        times.append((time.perf_counter() - start) / repeats)
    return statistics.median(times) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(f"{'image':<22}" + "".join(f"{name:>18}" for name in METHODS) + "   (µs/image)")
    for width, height in SIZES:
        image = make_image(width, height)
        for fmt, options in FORMATS.items():
            buffer = io.BytesIO()
            image.save(buffer, format=fmt, **options)
            data = buffer.getvalue()
            label = f"{width}x{height} {fmt} {len(data) // 1024} KB"
            cells = [microseconds_per_image(method, data, args.rounds) for method in METHODS.values()]
            print(f"{label:<22}" + "".join(f"{cell:>18,.0f}" for cell in cells))


if __name__ == "__main__":
    main()
