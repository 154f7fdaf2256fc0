"""Anyres preprocessing throughput: MMReasonImageProcessor vs transformers' LlavaOnevisionImageProcessorPil.

Both get the same in-memory RGB images (4 mixed sizes, each tiled into a 2x3 or 3x2 grid + the base tile = 7 tiles
of 384 px) and return PyTorch tensors; outputs are checked equal (<= 1e-5) before anything is timed.

    python benchmarks/bench_image_processor.py [--rounds 5] [--threads 2]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from transformers import LlavaOnevisionImageProcessorPil

from mmreason.model import MMReasonImageProcessor
from mmreason.testing import make_image

SIZES = [(1024, 640), (640, 1024), (900, 700), (500, 1100)]  # (width, height)


def images_per_second(processor, images, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for image in images:
            processor(image, return_tensors="pt")
        times.append(time.perf_counter() - start)
    return len(images) / statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2, help="torch threads (the CI machine has 2 cores)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    ours = MMReasonImageProcessor()
    stock = LlavaOnevisionImageProcessorPil(
        image_mean=list(ours.image_mean),
        image_std=list(ours.image_std),
        image_grid_pinpoints=ours.image_grid_pinpoints,
    )
    images = [make_image(w, h, seed=i) for i, (w, h) in enumerate(SIZES)]
    for image in images:
        a, b = ours(image, return_tensors="pt"), stock(image, return_tensors="pt")
        assert a["pixel_values"].shape == b["pixel_values"].shape == (1, 7, 3, 384, 384), a["pixel_values"].shape
        diff = (a["pixel_values"] - b["pixel_values"]).abs().max().item()
        assert diff <= 1e-5, f"outputs differ by {diff} on {image.size}"
    images_per_second(ours, images, 1)  # warm-up
    images_per_second(stock, images, 1)
    stock_ips = images_per_second(stock, images, args.rounds)
    ours_ips = images_per_second(ours, images, args.rounds)
    print(f"sizes (w x h): {', '.join(f'{w}x{h}' for w, h in SIZES)}; 7 tiles of 384 px each; outputs equal")
    print(f"{'processor':<36}{'images/s':>10}")
    print(f"{'LlavaOnevisionImageProcessorPil':<36}{stock_ips:>10.1f}")
    print(f"{'MMReasonImageProcessor':<36}{ours_ips:>10.1f}")
    print(f"speed-up: {ours_ips / stock_ips:.2f}x")


if __name__ == "__main__":
    main()
