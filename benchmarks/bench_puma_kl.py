"""Peak memory of the PUMA KL (forward + backward), chunked vs unchunked, at a 152k vocabulary.

For each `kl_chunk_size`, `mmreason.train.puma_loss.kl_peak_bytes` counts the tensor bytes allocated beyond the two
(positions, vocab) input logits while the KL and its gradient are computed (exact storage accounting, the same on
CPU and GPU); the chunked sums are checked against the unchunked ones.

    python benchmarks/bench_puma_kl.py [--vocab 152064] [--positions 1024] [--chunks 0,256,64] [--device cuda]
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from mmreason.train.puma_loss import kl_peak_bytes, kl_sums


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vocab", type=int, default=152064)
    parser.add_argument("--positions", type=int, default=1024)
    parser.add_argument("--chunks", default="0,256,64", help="comma-separated kl_chunk_size values (0: unchunked)")
    parser.add_argument("--dtype", default="bfloat16")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    dtype = getattr(torch, args.dtype)
    one = args.positions * args.vocab * dtype.itemsize
    print(json.dumps({"vocab": args.vocab, "positions": args.positions, "dtype": args.dtype,
                      "one_input_MiB": round(one / 2**20, 1)}))  # fmt: skip
    generator = torch.Generator(device=args.device).manual_seed(0)
    probe = [torch.randn(64, args.vocab, generator=generator, device=args.device, dtype=dtype) for _ in range(2)]
    reference = kl_sums(probe[0], probe[1])
    for chunk in (int(c) for c in args.chunks.split(",")):
        torch.testing.assert_close(kl_sums(probe[0], probe[1], chunk_size=chunk or None), reference)
        start = time.perf_counter()
        peak = kl_peak_bytes(args.vocab, args.positions, chunk or None, dtype, args.device)
        seconds = round(time.perf_counter() - start, 1)
        result = {"kl_chunk_size": chunk, "peak_MiB": round(peak / 2**20, 1), "peak_in_inputs": round(peak / one, 2)}
        print(json.dumps({**result, "seconds": seconds}))


if __name__ == "__main__":
    main()
