"""Load: a fixed request rate (open loop) against a `polytag serve` it starts; latency and memory.

Starts `polytag serve` on a fresh database (a SQLite file by default; `--db DSN` for a new
PostgreSQL schema, dropped after), seeds a WeChat app (`--followers`) and a Tencent IM app, sets
up 20 tags and some memberships, then sends a realistic mix at `--rate` requests a second for
`--warmup` + `--seconds`: WeChat batchtagging / batchuntagging, tags/get, user/tag/get, user/info,
IM im_get_tag, native audience count (weights in `bench/_load_mix.py`). Requests leave at fixed
instants whatever the answers (open loop, `bench/_load_loop.py`); latency counts from the
scheduled instant, so queueing is counted.

    python bench/load.py [--rate 500] [--seconds 120] [--warmup 10] [--followers 20000]
                         [--workers 1] [--db sqlite|postgresql://...] [--max-growth-mb 32] [--json]

Reports target and achieved throughput (and whether the rate was held: achieved within 5 % of
the target and sends on time), errors, p50/p90/p99/max latency, and the server's VmRSS after the
warm-up, every `--sample-every` seconds, and at the end, with the growth in MB and %. Exits 1 on
any error or a growth over `--max-growth-mb`.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.crash_driver import Server  # noqa: E402

from _load_loop import Part, Plan, Sampler, rss_mb, run  # noqa: E402
from _load_mix import MIX, seed_doc, setup  # noqa: E402


def quantile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def ms(sorted_values: list[float], q: float) -> float:
    return round(quantile(sorted_values, q) * 1000, 2)


def report(args: argparse.Namespace, part: Part, sampler: Sampler, window_start: float) -> dict[str, Any]:
    lat = sorted(x for got in part.latencies.values() for x in got)
    lags = sorted(part.send_lags)
    done = len(lat)
    elapsed = max(args.seconds, part.last_done - window_start)
    achieved = done / elapsed if elapsed > 0 else 0.0
    late = sum(1 for x in lags if x > 0.05)
    held = achieved >= 0.95 * args.rate and quantile(lags, 0.99) < 0.05 and not part.dropped
    mem = [mb for _, mb in sampler.samples]
    growth = mem[-1] - mem[0] if mem else 0.0
    return {
        "target_rate": args.rate, "achieved_rate": round(achieved, 1), "rate_held": held,
        "seconds": args.seconds, "warmup": args.warmup, "workers": args.workers, "backend": args.backend,
        "followers": args.followers, "requests": done, "dropped": part.dropped,
        "by_kind": {k: {"requests": len(v), "p50_ms": ms(sorted(v), 0.5), "p99_ms": ms(sorted(v), 0.99)}
                    for k, v in sorted(part.latencies.items())},
        "errors": sum(part.errors.values()), "errors_by_kind": dict(part.errors), "error_examples": part.examples,
        "latency_ms": {name: ms(lat, q) for name, q in (("p50", 0.50), ("p90", 0.90), ("p99", 0.99))}
        | {"max": round(lat[-1] * 1000, 2) if lat else 0.0},
        "send_lag_ms": {"p99": round(quantile(lags, 0.99) * 1000, 2),
                        "max": round(lags[-1] * 1000, 2) if lags else 0.0, "late_over_50ms": late},
        "server_cpu_pct": sampler.cpu_percent(),
        "memory_mb": {"start": mem[0] if mem else 0.0, "end": mem[-1] if mem else 0.0,
                      "growth": round(growth, 1), "growth_pct": round(100 * growth / mem[0], 1) if mem else 0.0,
                      "max_growth": args.max_growth_mb, "samples": sampler.samples},
    }


def text(r: dict[str, Any]) -> str:
    m, lat, lag = r["memory_mb"], r["latency_ms"], r["send_lag_ms"]
    lines = [
        f"load: {r['backend']}, {r['followers']} followers, {r['workers']} worker(s), "
        f"{r['seconds']}s after {r['warmup']}s warm-up",
        f"rate: target {r['target_rate']}/s, achieved {r['achieved_rate']}/s "
        f"({'held' if r['rate_held'] else 'NOT HELD'}; send lag p99 {lag['p99']} ms, max {lag['max']} ms, "
        f"{lag['late_over_50ms']} sends over 50 ms late)",
        f"requests: {r['requests']}, errors: {r['errors']}, dropped (over --max-inflight): {r['dropped']}, "
        f"server CPU {r['server_cpu_pct']} % of a core",
        f"latency ms: p50 {lat['p50']}  p90 {lat['p90']}  p99 {lat['p99']}  max {lat['max']}",
        *(f"  {k:28} {v['requests']:>7}  p50 {v['p50_ms']:>9}  p99 {v['p99_ms']:>9}" for k, v in r["by_kind"].items()),
        f"server RSS MB: start {m['start']}  end {m['end']}  growth {m['growth']} MB ({m['growth_pct']} %), "
        f"limit {m['max_growth']} MB",
        "  samples (s, MB): " + " ".join(f"{t:g}:{mb:g}" for t, mb in m["samples"]),
    ]
    lines += [f"  ! {e}" for e in r["error_examples"]]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rate", type=float, default=500.0, help="requests per second, all workers together")
    ap.add_argument("--seconds", type=float, default=120.0, help="measured time")
    ap.add_argument("--warmup", type=float, default=10.0, help="load before measuring (not counted)")
    ap.add_argument("--followers", type=int, default=20_000)
    ap.add_argument("--workers", type=int, default=1, help="client processes (if one cannot keep up)")
    ap.add_argument("--pool", type=int, default=200, help="connections per worker")
    ap.add_argument("--max-inflight", type=int, default=200,
                    help="per worker: a request due while this many wait is dropped (counted)")
    ap.add_argument("--db", default="sqlite", help="'sqlite' (a temp file) or a PostgreSQL DSN (a new schema)")
    ap.add_argument("--sample-every", type=float, default=10.0, help="seconds between memory samples")
    ap.add_argument("--max-growth-mb", type=float, default=32.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    args.backend = "sqlite" if args.db == "sqlite" else "postgresql"
    with tempfile.TemporaryDirectory(prefix="polytag-load-") as tmp:
        db = f"sqlite:///{Path(tmp) / 'polytag.db'}"
        if args.backend == "postgresql":
            db = f"{args.db}{'&' if '?' in args.db else '?'}schema=pt_load_{uuid.uuid4().hex[:12]}"
        server = Server(db, Path(tmp), seed_doc(args.followers))
        try:
            mix = setup(server.url, args.followers, random.Random(args.seed))
            rss_mb(server.proc.pid)  # fail early if /proc is not there
            plan = Plan(server.url, args.rate, time.time() + 0.5, args.warmup, args.seconds,
                        args.workers, args.pool, args.seed, args.max_inflight)
            window = plan.start_at + args.warmup
            sampler = Sampler(server.proc.pid, window, args.sample_every)
            part = run(plan, mix, sampler.start)
            sampler.done.set()
            sampler.join()
        finally:
            server.stop()
            if args.backend == "postgresql":
                from polytag.store.postgres import drop_schema

                drop_schema(db)
    r = report(args, part, sampler, window)
    print(json.dumps(r, indent=2) if args.json else text(r))
    assert set(r["by_kind"]) <= set(MIX)
    return 0 if r["errors"] == 0 and r["memory_mb"]["growth"] <= args.max_growth_mb else 1


if __name__ == "__main__":
    sys.exit(main())
