"""The subject directory's map side by side: OrdMap (compiled) vs the same map over a dict.

Resolves batches of 50 external ids among N (1M by default), as a WeChat batchtagging does:
each batch is freshly parsed JSON (new str objects, hashes not cached), once with the CPU
caches left warm by the previous batch and once after touching 32 MB of other memory (as a
server does between requests). Also prints the memory each map takes (tracemalloc).

    python bench/ordmap.py [--ids 1000000] [--batches 5000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable

import orjson

from polytag.core.ordmap import COMPILED, OrdMap, PyOrdMap


def built(kind: type, ids: list[str]) -> tuple[object, int]:
    """(the map, bytes it allocated)"""
    tracemalloc.start()
    m = kind()
    m.extend(ids, 0)  # type: ignore[attr-defined]
    size = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return m, size


THRASH = bytearray(32 << 20)  # other memory, one byte touched in every cache line
TOUCH = bytes(len(range(0, len(THRASH), 64)))


def timed(get_many: Callable[[list[str]], object], batches: list[list[str]], cold: bool) -> float:
    """Median µs per batch (with `cold`, after touching THRASH)."""
    times = []
    for batch in batches:
        if cold:
            THRASH[::64] = TOUCH
        t0 = time.perf_counter()
        get_many(batch)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ids", type=int, default=1_000_000)
    ap.add_argument("--batches", type=int, default=5000)
    args = ap.parse_args()
    if not COMPILED:
        sys.exit("polytag._ordmap is not built (pip install -e . with a C compiler)")
    ids = [f"o{i:027d}" for i in range(args.ids)]
    rng = random.Random(1)
    starts = [rng.randrange(args.ids - 50) for _ in range(args.batches)]
    print(f"{args.ids:,} ids, batches of 50, median of {args.batches:,}")
    results = {}
    for name, kind in (("dict", PyOrdMap), ("OrdMap", OrdMap)):
        m, size = built(kind, ids)
        for cold in (False, True):
            batches = [orjson.loads(orjson.dumps(ids[s:s + 50])) for s in starts]  # fresh str objects
            results[name, cold] = timed(m.get_many, batches, cold)  # type: ignore[attr-defined]
        print(f"{name:7s} warm {results[name, False]:6.2f} µs/batch   after 32 MB touched "
              f"{results[name, True]:6.2f} µs/batch   memory {size / 2**20:6.1f} MiB")
        del m
    for cold in (False, True):
        print(f"dict / OrdMap, {'after 32 MB touched' if cold else 'warm'}: "
              f"{results['dict', cold] / results['OrdMap', cold]:.1f}x")


if __name__ == "__main__":
    main()
