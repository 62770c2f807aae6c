"""batchtagging req/s over HTTP: 1 process on SQLite, 1 and 2 processes on PostgreSQL, side by side.

Reuses the data builder, the wrk driver and its Lua script from `bench/batchtagging.py`.
Builds the same app on both backends (followers x 10 tags preloaded, 100 tags), starts one
SQLite server and two PostgreSQL servers on one schema, then per run measures, in rotation:
sqlite x1, postgresql x1, postgresql x2 (two wrk at once, one per server, the same total
connections and threads). Every batchtagging answer is checked for errcode 0.

    python bench/pg_batchtagging.py [--pg postgresql://postgres@127.0.0.1:5432/test]
                                     [--followers 100000] [--runs 3] [--seconds 5]

Needs `wrk` and a PostgreSQL server; drops its schema at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from batchtagging import APPID, BATCH, LUA, SECRET, build, memberships, start, wrk  # noqa: E402
from polytag.store.postgres import drop_schema  # noqa: E402

CONFIGS = ("sqlite x1", "postgresql x1", "postgresql x2")


def token_of(url: str) -> str:
    with urllib.request.urlopen(
        f"{url}/cgi-bin/token?grant_type=client_credential&appid={APPID}&secret={SECRET}"
    ) as r:
        return str(json.load(r)["access_token"])


def measure(urls: list[str], token: str, args: argparse.Namespace, offset: int) -> tuple[float, int, int]:
    """Run wrk against every url at once, splitting connections and threads; summed (req/s, sent, errors)."""
    share_c = max(1, args.connections // len(urls))
    share_t = max(1, args.threads // len(urls))
    fresh = args.followers // BATCH * 10  # requests before a follower block repeats
    results: list[tuple[float, int, int]] = []
    lock = threading.Lock()

    def one(i: int, url: str) -> None:
        lua = LUA % {"followers": args.followers, "tid_base": offset + i * fresh // len(urls),
                     "threads": share_t}
        got = wrk(url, f"/cgi-bin/tags/members/batchtagging?access_token={token}", lua,
                  args.seconds, share_c, share_t)
        with lock:
            results.append(got)

    workers = [threading.Thread(target=one, args=(i, u)) for i, u in enumerate(urls)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(r[0] for r in results), sum(r[1] for r in results), sum(r[2] for r in results)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pg", default=os.environ.get("POLYTAG_TEST_PG_DSN",
                                                   "postgresql://postgres@127.0.0.1:5432/test"))
    ap.add_argument("--followers", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk not found: apt-get install wrk")
    workdir = Path(tempfile.mkdtemp(prefix="polytag-pgbench-"))
    sep = "&" if "?" in args.pg else "?"
    pg_url = f"{args.pg}{sep}schema=pt_bench_{uuid.uuid4().hex[:12]}"
    sqlite_url = f"sqlite:///{workdir / 'bench.db'}"
    procs: list[subprocess.Popen[str]] = []
    try:
        print("building sqlite ...", flush=True)
        build(sqlite_url, args.followers)
        print("building postgresql ...", flush=True)
        build(pg_url, args.followers)
        servers: dict[str, str] = {}
        for name, db in (("sqlite", sqlite_url), ("pg1", pg_url), ("pg2", pg_url)):
            proc, url = start(db)
            procs.append(proc)
            servers[name] = url
        tokens = {"sqlite": token_of(servers["sqlite"]), "pg": token_of(servers["pg1"])}
        targets = {
            "sqlite x1": ([servers["sqlite"]], tokens["sqlite"]),
            "postgresql x1": ([servers["pg1"]], tokens["pg"]),
            "postgresql x2": ([servers["pg1"], servers["pg2"]], tokens["pg"]),  # a token from pg1 on pg2
        }
        before = {b: memberships(servers["sqlite" if b == "sqlite" else "pg1"], tokens[b]) for b in tokens}
        sent_ok = {"sqlite": 0, "pg": 0}
        rates: dict[str, list[float]] = {c: [] for c in CONFIGS}
        offsets = {"sqlite": 0, "pg": 0}
        for run in range(args.runs + 1):  # run 0 is a warm-up
            line = []
            for config in CONFIGS:
                urls, token = targets[config]
                backend = "sqlite" if config.startswith("sqlite") else "pg"
                rps, sent, errors = measure(urls, token, args, offsets[backend])
                offsets[backend] += sent + args.connections * args.threads
                sent_ok[backend] += sent
                if run:
                    rates[config].append(rps)
                line.append(f"{config} {rps:,.0f} req/s ({errors} non-zero errcodes)")
            print(f"run {run}{' (warm-up)' if run == 0 else ''}: " + "; ".join(line), flush=True)
        for b, name in (("sqlite", "sqlite"), ("pg", "postgresql")):
            added = memberships(servers["sqlite" if b == "sqlite" else "pg1"], tokens[b]) - before[b]
            print(f"{name}: +{added:,} memberships for {sent_ok[b]:,} requests "
                  f"({added / max(1, BATCH * sent_ok[b]):.0%} of them carried fresh pairs)")
        base = statistics.median(rates["sqlite x1"])
        print(f"\nmedian batchtagging req/s ({BATCH} openids each), {args.followers:,} followers, "
              f"{args.connections} connections, {os.cpu_count()} CPUs shared by client, servers and PostgreSQL:")
        for config in CONFIGS:
            med = statistics.median(rates[config])
            print(f"  {config:<14} {med:>8,.0f} req/s  ({med / base:.2f} x sqlite x1)")
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait()
        drop_schema(pg_url)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
