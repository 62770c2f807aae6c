"""Audience engine side by side: 3-tag count over HTTP vs Redis SINTERCARD and plain SQL; cold start; memory.

Builds its own data: a native app with N subjects and T tags (30-60 % random density), the
first three tags also loaded into Redis (pipelined SADD, 1000 members a command) and into a
plain `m(tag, ord)` WITHOUT ROWID table in the same SQLite file. Then:
- warm `POST /v1/apps/bench/audiences/count` for `t0 & t1 & t2` on a running `polytag serve`
  vs `SINTERCARD 3` vs the best SQL (INTERSECT of three index range scans);
- cold start: a fresh server process, the first count (the index opens, the named tags' chunks are read);
- memory: serialized bitmap bytes of the three tags vs Redis `used_memory` growth.

    python bench/audience.py [--subjects 10000000] [--tags 100] [--small]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import httpx
import numpy as np
from pyroaring import BitMap

from polytag import dialects
from polytag.core import native
from polytag.core.service import Service
from polytag.store import open_store

EXPR = "t0 & t1 & t2"


def ext(i: int) -> str:
    """Subject ids of one width, so a page deep in an audience carries as many bytes as the first."""
    return f"u{i:08d}"


def build(path: str, n: int, tags: int, seed: int = 7) -> list[BitMap]:
    """A native app `bench` with n subjects and `tags` random tags; returns the first three bitmaps."""
    svc = Service(open_store(f"sqlite:///{path}"), dialects.presets(dialects.discover()))
    svc.memberships.fold_every = 16  # steady state: members folded into chunks, a short log
    app = svc.write_sync(native.create_app(svc, "bench", tags=[f"t{i}" for i in range(tags)]))[0]
    for start in range(0, n, 200_000):
        ids = [ext(i) for i in range(start, min(n, start + 200_000))]
        svc.write_sync(lambda tx, ids=ids: svc.subjects.create(tx, app, ids, 0))
    rng = np.random.default_rng(seed)
    first: list[BitMap] = []
    for t in range(tags):
        density = 0.3 + 0.3 * rng.random()
        bm = BitMap(np.flatnonzero(rng.random(n) < density).astype(np.uint32))
        svc.write_sync(lambda tx, t=t, bm=bm: svc.memberships.add(tx, app, t, bm, None))
        if t < 3:
            first.append(bm)
    svc.store.close()
    return first


def ensure(path: str, n: int, tags: int) -> list[BitMap]:
    """Build the data at `path`, or reuse a database an earlier run left there (its first three tags)."""
    if not os.path.exists(path):
        return build(path, n, tags)
    svc = Service(open_store(f"sqlite:///{path}"), dialects.presets(dialects.discover()))
    try:
        idx = svc.memberships.index(svc.apps.get("bench"))
        return [BitMap(idx.members(t)) for t in range(3)]
    finally:
        svc.store.close()


def start(db: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "polytag", "serve", "--port", "0", "--db", f"sqlite:///{db}"],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    return proc, line.split(" on ", 1)[1].strip()


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    proc.wait(timeout=30)


def timed(fn, rounds: int) -> tuple[float, float, object]:  # type: ignore[no-untyped-def]
    out, times = None, []
    for _ in range(rounds):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times) * 1000, statistics.median(times) * 1000, out


def redis_side(first: list[BitMap], rounds: int) -> dict[str, float]:
    import redis

    r = redis.Redis(host="127.0.0.1", port=6379, socket_timeout=600)
    prefix = f"ptbench:{uuid.uuid4().hex[:8]}:"
    before = int(r.info("memory")["used_memory"])
    try:
        t0 = time.perf_counter()
        added = 0
        for i, bm in enumerate(first):
            arr = np.frombuffer(bm.to_array(), dtype=np.uint32)
            pipe = r.pipeline(transaction=False)
            for k, s in enumerate(range(0, len(arr), 1000)):
                pipe.sadd(f"{prefix}t{i}", *arr[s:s + 1000].tolist())
                if k % 10 == 9:
                    pipe.execute()
            pipe.execute()
            added += len(arr)
        load = time.perf_counter() - t0
        used = int(r.info("memory")["used_memory"]) - before
        keys = [f"{prefix}t{i}" for i in range(3)]
        mn, med, got = timed(lambda: r.execute_command("SINTERCARD", 3, *keys), rounds)
        return {"min": mn, "median": med, "count": int(got), "memory": used,  # type: ignore[call-overload]
                "sadd_rate": added / load}
    finally:
        for key in r.scan_iter(f"{prefix}*"):
            r.delete(key)


def sql_side(db: str, first: list[BitMap], rounds: int) -> dict[str, float]:
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE IF NOT EXISTS bench_m (tag INTEGER, ord INTEGER, PRIMARY KEY (tag, ord)) WITHOUT ROWID")
    con.execute("DELETE FROM bench_m")
    for i, bm in enumerate(first):
        con.executemany("INSERT INTO bench_m VALUES (?, ?)", ((i, o) for o in bm))
    con.commit()
    q = ("SELECT count(*) FROM (SELECT ord FROM bench_m WHERE tag = 0 INTERSECT SELECT ord FROM bench_m WHERE tag = 1"
         " INTERSECT SELECT ord FROM bench_m WHERE tag = 2)")
    mn, med, got = timed(lambda: con.execute(q).fetchone()[0], max(1, rounds // 8))
    con.execute("DROP TABLE bench_m")
    con.commit()
    con.close()
    return {"min": mn, "median": med, "count": int(got)}  # type: ignore[call-overload]


def rss() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def cold_split(db: str, n: int) -> tuple[float, float, float, int, int]:
    """In a fresh Service: opening the index (tag list and log), reading three tags, reading
    every tag plus the per-subject counts (what a capped write needs), then the bitmaps' size:
    serialized bytes of all tags and the process's resident growth."""
    svc = Service(open_store(f"sqlite:///{db}"), dialects.presets(dialects.discover()))
    try:
        app = svc.apps.get("bench")
        base = rss()
        t0 = time.perf_counter()
        idx = svc.memberships.index(app)
        open_ms = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        for tag in sorted(idx.tag_ords())[:3]:
            idx.members(tag)
        three_ms = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        idx.rebuild_counts(n)  # loads every tag, then counts tags per subject
        all_ms = (time.perf_counter() - t0) * 1000
        size = sum(len(bm.serialize()) for bm in idx.loaded().values())
        return open_ms, three_ms, all_ms, size, rss() - base
    finally:
        svc.store.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--subjects", type=int, default=10_000_000)
    ap.add_argument("--tags", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--small", action="store_true", help="200k subjects x 20 tags")
    ap.add_argument("--db", default=None, help="keep the built database here (reused when it exists)")
    args = ap.parse_args()
    n, tags = (200_000, 20) if args.small else (args.subjects, args.tags)
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or os.path.join(tmp, "bench.db")
        t0 = time.perf_counter()
        first = ensure(db, n, tags)
        print(f"built {n:,} subjects x {tags} tags in {time.perf_counter() - t0:.1f} s")
        want = len(first[0] & first[1] & first[2])

        proc, url = start(db)
        try:
            http = httpx.Client(base_url=url, timeout=600)
            body = {"expr": EXPR}
            t0 = time.perf_counter()
            cold = http.post("/v1/apps/bench/audiences/count", json=body).json()["count"]
            cold_ms = (time.perf_counter() - t0) * 1000
            assert cold == want, (cold, want)
            mn, med, _ = timed(lambda: http.post("/v1/apps/bench/audiences/count", json=body).json(), args.rounds)
        finally:
            stop(proc)
        open_ms, three_ms, all_ms, all_bytes, all_rss = cold_split(db, n)
        bitmap_bytes = sum(len(b.serialize()) for b in first)
        rs = redis_side(first, max(3, args.rounds // 4))
        sq = sql_side(db, first, args.rounds)
        assert rs["count"] == want == sq["count"]
    print(f"| 3-tag count, {n:,} subjects (= {want:,}) | polytag HTTP warm | {mn:.2f} / {med:.2f} ms |")
    print(f"| | Redis SINTERCARD 3 | {rs['min']:.1f} / {rs['median']:.1f} ms | ratio {rs['median'] / med:,.0f}x |")
    print(f"| | SQLite INTERSECT | {sq['min']:.1f} / {sq['median']:.1f} ms | ratio {sq['median'] / med:,.0f}x |")
    print(f"| first query after restart ({n:,} x {tags} tags) | polytag HTTP cold | {cold_ms:.0f} ms |")
    print(f"| | in process: index open {open_ms:.0f} ms, three tags' chunks {three_ms:.0f} ms "
          f"(all {tags} tags + per-subject counts, as a first capped write needs: {all_ms:.0f} ms) |")
    print(f"| memory, all {tags} tags | bitmaps {all_bytes / 1e6:.1f} MB serialized, "
          f"{all_rss / 1e6:.1f} MB resident growth incl. counts | Redis (3 tags measured, x{tags / 3:.0f}) "
          f"~{rs['memory'] * tags / 3 / 1e9:.1f} GB |")
    print(f"| memory, 3 tags | bitmaps {bitmap_bytes / 1e6:.1f} MB | Redis {rs['memory'] / 1e6:.1f} MB | "
          f"ratio {rs['memory'] / max(1, bitmap_bytes):.0f}x |")
    print(f"| Redis pipelined SADD load rate | {rs['sadd_rate']:,.0f} members/s |")


if __name__ == "__main__":
    main()
