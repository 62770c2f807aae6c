"""batchtagging req/s over HTTP, SQLite against PostgreSQL, one and two processes, one and two apps.

Reuses the data builder, the wrk driver and its Lua script from `bench/batchtagging.py`.
Builds app A on SQLite and apps A and B on PostgreSQL (followers x 10 tags preloaded, 100
tags each), starts one SQLite server and two PostgreSQL servers on one schema, then per run
measures, in rotation, with the same total client connections and wrk threads in each:

    sqlite x1                 one server, app A
    postgresql x1             one server, app A
    postgresql x2 one app     two servers, both writing app A (half the connections each)
    postgresql x1 two apps    one server, half the connections on A and half on B
    postgresql x2 two apps    server 1 writes A, server 2 writes B (half the connections each)

For every configuration it reports the CPU each process used (from /proc/PID/stat: the
servers, all PostgreSQL backends together, the wrk clients, and the machine's busy share from
/proc/stat), and on PostgreSQL the lock waits it saw: `pg_stat_activity` sampled every 20 ms
for the servers' connections (told apart by `application_name`) waiting on an advisory lock.
Every batchtagging answer is checked for errcode 0. The last line printed is one JSON object
with every figure and the ratios issue 17 names (pg1/sqlite1, pg2 two apps / pg1 two apps,
pg2 one app / pg1).

    python bench/pg_batchtagging.py [--pg postgresql://postgres@127.0.0.1:5432/test]
                                     [--followers 100000] [--runs 3] [--seconds 5]

Needs `wrk` (Debian package `wrk`, `make bench-deps`) and a PostgreSQL server; drops its schema at the end.
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
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import psycopg  # noqa: E402

from batchtagging import APPID, BATCH, LUA, SECRET, build, memberships, wrk  # noqa: E402
from polytag.store.postgres import drop_schema, parse_url  # noqa: E402

APPID_B = "wxbench00000000002"
CONFIGS = ("sqlite x1", "postgresql x1", "postgresql x2 one app", "postgresql x1 two apps",
           "postgresql x2 two apps")
TICK = os.sysconf("SC_CLK_TCK")


def token_of(url: str, appid: str) -> str:
    with urllib.request.urlopen(
        f"{url}/cgi-bin/token?grant_type=client_credential&appid={appid}&secret={SECRET}"
    ) as r:
        return str(json.load(r)["access_token"])


def start(db: str, name: str) -> tuple[subprocess.Popen[str], str]:
    """`polytag serve` whose PostgreSQL connections carry application_name `name` (libpq's PGAPPNAME)."""
    env = {**os.environ, "PGAPPNAME": name}
    proc = subprocess.Popen([sys.executable, "-m", "polytag", "serve", "--port", "0", "--db", db],
                            stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("polytag ready on "), line
    return proc, line.split(" on ", 1)[1].strip()


def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of one process, all threads (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def postgres_pids() -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if Path(f"/proc/{entry}/comm").read_text().strip() == "postgres":
                    out.append(int(entry))
            except OSError:
                continue
    return out


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs since boot."""
    values = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


class CpuMeter:
    """CPU seconds used by each named process (and all postgres processes) over a window."""

    def __init__(self, servers: dict[str, int]) -> None:
        self.servers = servers

    def __enter__(self) -> CpuMeter:
        self.t0 = time.monotonic()
        self.s0 = {n: proc_cpu(p) for n, p in self.servers.items()}
        self.pg0 = {p: proc_cpu(p) for p in postgres_pids()}
        self.m0 = machine_busy()
        return self

    def __exit__(self, *exc: object) -> None:
        wall = time.monotonic() - self.t0
        # a backend started during the window counts from 0; one that ended is not counted
        pg = sum(proc_cpu(p) - self.pg0.get(p, 0.0) for p in postgres_pids())
        m1 = machine_busy()
        self.figures = {f"{n} cpu %": round(100 * (proc_cpu(p) - self.s0[n]) / wall)
                        for n, p in self.servers.items()}
        self.figures["postgres cpu %"] = round(100 * pg / wall)
        self.figures["machine busy %"] = round(100 * (m1[0] - self.m0[0]) / max(1, m1[1] - self.m0[1]))


class LockSampler(threading.Thread):
    """Counts, every 20 ms, the servers' connections waiting on an advisory lock (by application_name)."""

    def __init__(self, conninfo: str, prefix: str) -> None:
        super().__init__(daemon=True)
        self.conninfo, self.prefix = conninfo, prefix
        self.stop = threading.Event()
        self.samples = 0
        self.waiting: dict[str, int] = {}

    def run(self) -> None:
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            while not self.stop.is_set():
                rows = conn.execute(
                    "SELECT application_name, count(*) FROM pg_stat_activity WHERE application_name LIKE %s"
                    " AND wait_event_type = 'Lock' AND wait_event = 'advisory' GROUP BY 1",
                    (self.prefix + "%",)).fetchall()
                self.samples += 1
                for name, n in rows:
                    self.waiting[name] = self.waiting.get(name, 0) + int(n)
                self.stop.wait(0.02)

    def figures(self) -> dict[str, Any]:
        total = sum(self.waiting.values())
        return {"advisory lock waits seen": total, "lock samples": self.samples,
                "mean writers waiting": round(total / max(1, self.samples), 3)}


def measure(targets: list[tuple[str, str, str]], args: argparse.Namespace,
            offsets: dict[str, int]) -> tuple[float, int, int]:
    """Run one wrk per (url, token, app) at once, splitting connections and threads; summed
    (req/s, sent, errors). `offsets[app]` numbers the next fresh request of each app."""
    share_c = max(1, args.connections // len(targets))
    share_t = max(1, args.threads // len(targets))
    fresh = args.followers // BATCH * 10  # requests before a follower block repeats
    per_app = {app: sum(1 for t in targets if t[2] == app) for _, _, app in targets}
    results: list[tuple[float, int, int, int]] = []
    nexts: dict[str, int] = {}
    lock = threading.Lock()

    def one(i: int, url: str, token: str, app: str) -> None:
        k = sum(1 for t in targets[:i] if t[2] == app)  # this wrk's share of its app's fresh requests
        lua = LUA % {"followers": args.followers, "tid_base": offsets[app] + k * fresh // per_app[app],
                     "threads": share_t}
        got = wrk(url, f"/cgi-bin/tags/members/batchtagging?access_token={token}", lua,
                  args.seconds, share_c, share_t)
        with lock:
            results.append(got)
            nexts[app] = max(nexts.get(app, 0), got[3])

    workers = [threading.Thread(target=one, args=(i, *t)) for i, t in enumerate(targets)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    offsets.update(nexts)  # the next configuration goes on with the requests none has sent
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
        sys.exit("wrk not found: apt-get install wrk (or make bench-deps)")
    workdir = Path(tempfile.mkdtemp(prefix="polytag-pgbench-"))
    sep = "&" if "?" in args.pg else "?"
    tag = uuid.uuid4().hex[:12]
    pg_url = f"{args.pg}{sep}schema=pt_bench_{tag}"
    sqlite_url = f"sqlite:///{workdir / 'bench.db'}"
    procs: dict[str, subprocess.Popen[str]] = {}
    try:
        print("building sqlite ...", flush=True)
        build(sqlite_url, args.followers)
        print("building postgresql (apps A and B) ...", flush=True)
        build(pg_url, args.followers)
        build(pg_url, args.followers, APPID_B)
        servers: dict[str, str] = {}
        appname = f"ptbench-{tag}-"
        for name, db in (("sqlite", sqlite_url), ("pg1", pg_url), ("pg2", pg_url)):
            procs[name], servers[name] = start(db, appname + name)
        tok = {("sqlite", "A"): token_of(servers["sqlite"], APPID), ("pg", "A"): token_of(servers["pg1"], APPID),
               ("pg", "B"): token_of(servers["pg1"], APPID_B)}  # a token from pg1 serves on pg2 too
        s, p1, p2 = servers["sqlite"], servers["pg1"], servers["pg2"]
        targets = {
            "sqlite x1": [(s, tok["sqlite", "A"], "sqlite A")],
            "postgresql x1": [(p1, tok["pg", "A"], "pg A")],
            "postgresql x2 one app": [(p1, tok["pg", "A"], "pg A"), (p2, tok["pg", "A"], "pg A")],
            "postgresql x1 two apps": [(p1, tok["pg", "A"], "pg A"), (p1, tok["pg", "B"], "pg B")],
            "postgresql x2 two apps": [(p1, tok["pg", "A"], "pg A"), (p2, tok["pg", "B"], "pg B")],
        }
        count_at = {"sqlite A": (s, tok["sqlite", "A"]), "pg A": (p1, tok["pg", "A"]), "pg B": (p1, tok["pg", "B"])}
        before = {app: memberships(*at) for app, at in count_at.items()}
        offsets = dict.fromkeys(count_at, 0)
        sent_ok = dict.fromkeys(count_at, 0)
        rates: dict[str, list[float]] = {c: [] for c in CONFIGS}
        extra: dict[str, list[dict[str, Any]]] = {c: [] for c in CONFIGS}
        errors_total = 0
        conninfo = parse_url(args.pg)[0]
        for run in range(args.runs + 1):  # run 0 is a warm-up
            line = []
            for config in CONFIGS:
                used = sorted({name for name, url in servers.items() for u, _, _ in targets[config] if u == url})
                time.sleep(1)  # let the servers finish what the last configuration left in flight
                sampler = LockSampler(conninfo, appname) if config.startswith("postgresql") else None
                if sampler:
                    sampler.start()
                with CpuMeter({n: procs[n].pid for n in used}) as cpu:
                    rps, sent, errors = measure(targets[config], args, offsets)
                figures: dict[str, Any] = dict(cpu.figures)
                # CPU per request (server processes, and every postgres process on the machine):
                # less swayed than req/s by what else the machine runs
                served = sum(v for k, v in cpu.figures.items() if k.endswith("cpu %") and not k.startswith("postgres"))
                figures["server cpu us/req"] = round(served / 100 / max(rps, 1) * 1e6)
                figures["postgres cpu us/req"] = round(cpu.figures["postgres cpu %"] / 100 / max(rps, 1) * 1e6)
                if sampler:
                    sampler.stop.set()
                    sampler.join()
                    figures.update(sampler.figures())
                errors_total += errors
                for _, _, app in targets[config]:
                    sent_ok[app] += sent // len(targets[config])
                if run:
                    rates[config].append(rps)
                    extra[config].append(figures)
                shown = ", ".join(f"{k} {v}" for k, v in figures.items() if k != "lock samples")
                line.append(f"  {config:<23} {rps:>7,.0f} req/s ({errors} non-zero errcodes; {shown})")
            print(f"run {run}{' (warm-up)' if run == 0 else ''}:\n" + "\n".join(line), flush=True)
        for app, at in count_at.items():
            added = memberships(*at) - before[app]
            print(f"{app}: +{added:,} memberships for ~{sent_ok[app]:,} requests "
                  f"({added / max(1, BATCH * sent_ok[app]):.0%} of them carried fresh pairs)")
        med = {c: statistics.median(rates[c]) for c in CONFIGS}
        base = med["sqlite x1"]
        print(f"\nmedian batchtagging req/s ({BATCH} openids each), {args.followers:,} followers per app, "
              f"{args.connections} connections, {os.cpu_count()} CPUs shared by clients, servers and PostgreSQL "
              "(and anything else running on the machine):")
        for config in CONFIGS:
            print(f"  {config:<23} {med[config]:>8,.0f} req/s  ({med[config] / base:.2f} x sqlite x1)")
        ratios = {
            "pg1 / sqlite1 (target >= 0.6)": round(med["postgresql x1"] / base, 3),
            "pg2 two apps / pg1 two apps (target >= 1.8 or CPU-bound)":
                round(med["postgresql x2 two apps"] / med["postgresql x1 two apps"], 3),
            "pg2 one app / pg1 (target >= 1.0)": round(med["postgresql x2 one app"] / med["postgresql x1"], 3),
        }
        for k, v in ratios.items():
            print(f"  {k}: {v:.2f}")
        for config in CONFIGS:
            us = [f["server cpu us/req"] for f in extra[config]]
            pg = [f["postgres cpu us/req"] for f in extra[config]]
            print(f"  {config:<23} CPU per request: servers {statistics.median(us):,.0f} us, "
                  f"postgres {statistics.median(pg):,.0f} us")
        summary = {
            "bench": "pg_batchtagging", "followers": args.followers, "runs": args.runs, "seconds": args.seconds,
            "connections": args.connections, "cpus": os.cpu_count(), "non_zero_errcodes": errors_total,
            "req_per_s": {c: [round(r) for r in rates[c]] for c in CONFIGS},
            "median_req_per_s": {c: round(v) for c, v in med.items()},
            "per_run": extra, "ratios": ratios,
        }
        print(json.dumps(summary, ensure_ascii=False, separators=(",", ":")))
    finally:
        for proc in procs.values():
            proc.terminate()
            proc.wait()
        drop_schema(pg_url)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
