"""Soak with hostile traffic: a fixed request rate against a `polytag serve` it starts, on loopback.

Starts `polytag serve` (a SQLite file in a temp dir by default; `--db DSN` for PostgreSQL) with
the demo seed (examples/demo-seed.yaml), then for `--minutes` (or `--seconds`) sends, at
`--rate` requests a second (open loop: requests leave at fixed instants, at most `--inflight`
at once; one that would exceed it is counted as skipped, never queued):

- unique random paths under each vendor prefix, the control plane and /v1 (some 40 KB long);
- 40-64 KB query strings on vendor endpoints (each one new);
- bodies over the 1 MiB cap (to a vendor endpoint, /v1, /_polytag/noop and /_polytag/seed);
- wrong secrets for `cgi-bin/token`, and calls with no token naming the app by `?appid=`;
- bodies with lone surrogates and 100,000 `[`, and reads of the journal (`/_polytag/requests`);
- a trickle of legitimate calls that must keep succeeding: WeChat `tags/members/batchtagging`
  with a token, and now and then a fresh `cgi-bin/token` with the right secret.

Beside it, `--slow` slow clients at a time (partial headers sent a byte a second, a body sent a
byte a second, idle sockets), each held for at most `--slow-hold` seconds.

Every `--sample` seconds it records the server's VmRSS (/proc/PID/status) and open fds
(/proc/PID/fd). At the end: a summary, then one JSON line (the last line of stdout). Exits 1
when a 5xx was answered or a legitimate call failed. Standard library and httpx only.

    python bench/soak_hostile.py [--rate 200] [--minutes 10] [--db sqlite|postgresql://...]
                                 [--slow 20] [--slow-hold 30] [--inflight 64] [--sample 5]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shlex
import string
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _soak_slow import slow_clients  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "demo-seed.yaml"
WX_APPID, WX_SECRET = "wx5f1c0e5d8a3b2c71", "3b6c0c7e2f5d4a19b8e1c2d3f4a5b6c7"
WX_FOLLOWERS = ["oYxcuAEy30bX0NXmGn4ypqx3tI0", "oYxcuBt0mRugKZ7tGAHPnUaOW7Y"]
JZ_TOKEN = "7f3c2a91d4e84b6fa0c5e2d1b9a87654"
CAP = 1024 * 1024  # the server's default body cap
PREFIXES = ["/cgi-bin/", "/v4/", "/api/v1/", "/_polytag/", "/v1/"]
# (kind, weight per 100 requests)
MIX = [("legit", 5), ("wrong_secret", 12), ("appid_no_token", 8), ("unique_path", 28), ("long_path", 2),
       ("big_query", 25), ("oversize", 2), ("surrogate_body", 8), ("deep_body", 4), ("journal_read", 1),
       ("control_bad", 5)]


@dataclass
class Stats:
    sent: Counter[str] = field(default_factory=Counter)
    status: Counter[str] = field(default_factory=Counter)  # "kind:status"
    errors: Counter[str] = field(default_factory=Counter)  # "kind:ExceptionName"
    five_xx: list[str] = field(default_factory=list)
    legit_ok: int = 0
    legit_failed: list[str] = field(default_factory=list)
    legit_latency: list[float] = field(default_factory=list)
    skipped: int = 0
    late: int = 0
    slow: Counter[str] = field(default_factory=Counter)
    slow_held: list[float] = field(default_factory=list)
    samples: list[dict[str, float]] = field(default_factory=list)
    load: list[float] = field(default_factory=list)  # the machine's 1-minute load average, start and end


# --- the server --------------------------------------------------------------------------------
class Server:
    def __init__(self, db: str, extra: list[str], workdir: Path) -> None:
        self.log = open(workdir / "server.log", "w+b")  # noqa: SIM115 - kept open for the run
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
        args = [sys.executable, "-m", "polytag", "serve", "--port", "0", "--host", "127.0.0.1", "--db", db,
                "--seed", str(SEED), *extra]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log, text=True, cwd=ROOT, env=env)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("polytag ready on "):
            self.stop()
            self.log.seek(0)
            raise SystemExit(f"server did not start: {line!r}\n{self.log.read().decode(errors='replace')[-3000:]}")
        self.url = line.split(" on ", 1)[1].strip()
        self.port = int(self.url.rsplit(":", 1)[1])

    def rss_mb(self) -> float:
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def cpu_s(self) -> float:
        """utime + stime of the server process, seconds."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def fds(self) -> int:
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def tracebacks(self) -> int:
        self.log.flush()
        self.log.seek(0)
        return self.log.read().count(b"Traceback (most recent call last)")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        return self.proc.returncode


# --- the traffic -------------------------------------------------------------------------------
class Traffic:
    def __init__(self, client: httpx.AsyncClient, rng: random.Random, stats: Stats) -> None:
        self.client, self.rng, self.stats = client, rng, stats
        self.token = ""
        self.tag_id = 0
        self.legit_n = 0
        self.words = 0
        self.pool = "".join(rng.choices(string.ascii_lowercase + string.digits, k=256 * 1024))

    def word(self, n: int) -> str:
        """`n` random URL-safe characters, new each time (a counter, then a slice of a random pool:
        drawing 64 K characters one by one would slow the client more than the server)."""
        self.words += 1
        head = f"{self.words:x}z"
        start = self.rng.randrange(len(self.pool) - n)
        return (head + self.pool[start:start + n])[:n] if n > len(head) else head[-n:]

    async def setup(self) -> None:
        await self.fresh_token()
        got = (await self.client.get("/cgi-bin/tags/get", params={"access_token": self.token})).json()
        self.tag_id = next(t["id"] for t in got["tags"] if t["name"] == "广东")

    async def fresh_token(self) -> bool:
        got = (await self.client.get("/cgi-bin/token", params={"grant_type": "client_credential", "appid": WX_APPID,
                                                                "secret": WX_SECRET})).json()
        if "access_token" not in got:
            self.stats.legit_failed.append(f"token: {got}")
            return False
        self.token = got["access_token"]
        return True

    async def legit(self) -> None:
        started = time.perf_counter()
        self.legit_n += 1
        if self.legit_n % 20 == 0 and not await self.fresh_token():
            return
        path = ["tags/members/batchtagging", "tags/members/batchuntagging"][self.legit_n % 2]
        resp = await self.client.post(f"/cgi-bin/{path}", params={"access_token": self.token},
                                      json={"openid_list": WX_FOLLOWERS, "tagid": self.tag_id})
        self.stats.legit_latency.append(time.perf_counter() - started)
        body = resp.json() if resp.headers.get("content-type", "").startswith("application/json") else {}
        if resp.status_code == 200 and body.get("errcode") == 0:
            self.stats.legit_ok += 1
        else:
            self.stats.legit_failed.append(f"{path}: {resp.status_code} {resp.text[:200]}")
        self.note("legit", resp)

    def request(self, kind: str) -> tuple[str, str, dict[str, Any]]:
        """(method, url, httpx keyword arguments) of one hostile request of `kind`."""
        r, w = self.rng, self.word
        if kind == "wrong_secret":
            return "GET", "/cgi-bin/token", {"params": {"grant_type": "client_credential", "appid": WX_APPID,
                                                        "secret": w(32)}}
        if kind == "appid_no_token":
            path = r.choice(["tags/get", "tags/create", "user/get", "stable_token"])
            return "POST", f"/cgi-bin/{path}", {"params": {"appid": WX_APPID}, "content": b"{}"}
        if kind == "unique_path":
            depth = r.randint(1, 4)
            path = r.choice(PREFIXES) + "/".join(w(r.randint(1, 64)) for _ in range(depth))
            return r.choice(["GET", "POST"]), path, {"content": b"{}"}
        if kind == "long_path":
            return "GET", r.choice(PREFIXES) + w(40_000), {}
        if kind == "big_query":
            path = r.choice(["/cgi-bin/tags/get", "/cgi-bin/user/get", "/v4/all_member_push/im_get_tag",
                             "/api/v1/tag/list", "/_polytag/health", "/v1/apps"])
            return "GET", f"{path}?access_token={w(20)}&{w(8)}={w(r.randint(40_000, 64_000))}", {}
        if kind == "oversize":
            path = r.choice(["/cgi-bin/tags/create", "/v4/all_member_push/im_get_tag", "/api/v1/tag/create",
                             "/v1/apps", "/_polytag/noop", "/_polytag/seed"])
            body = b'{"x":"' + b"y" * (CAP + r.randint(1, 64 * 1024)) + b'"}'
            return "POST", path, {"content": body, "headers": {"content-type": "application/json"}}
        if kind == "surrogate_body":
            path = r.choice(["/cgi-bin/tags/create", "/cgi-bin/stable_token", "/api/v1/tag/create"])
            body = b'{"tag":{"name":"\\ud800"},"grant_type":"client_credential","appid":"\\udfff","groupName":"\\ud800"}'
            return "POST", path, {"params": {"access_token": w(16), "token": JZ_TOKEN}, "content": body}
        if kind == "deep_body":
            path = r.choice(["/cgi-bin/tags/create", "/_polytag/clock", "/_polytag/faults", "/v1/apps"])
            return "POST", path, {"content": b"[" * 100_000, "headers": {"content-type": "application/json"}}
        if kind == "journal_read":
            return "GET", "/_polytag/requests", {"params": {"limit": "20"}}
        if kind == "control_bad":
            path, body = r.choice([("/_polytag/clock", b'{"advance_s": "x"}'), ("/_polytag/faults", b'{"dialect": 1}'),
                                   ("/_polytag/quotas", b'{"app": 5}'), ("/_polytag/requests", b'{"size": -1}')])
            method = "PUT" if path == "/_polytag/requests" else "POST"
            return method, path, {"content": body, "headers": {"content-type": "application/json"}}
        raise ValueError(kind)

    async def hostile(self, kind: str) -> None:
        method, url, kw = self.request(kind)
        resp = await self.client.request(method, url, **kw)
        self.note(kind, resp)

    def note(self, kind: str, resp: httpx.Response) -> None:
        self.stats.status[f"{kind}:{resp.status_code}"] += 1
        if resp.status_code >= 500:
            self.stats.five_xx.append(f"{kind} {resp.request.method} {str(resp.request.url)[:100]} -> "
                                      f"{resp.status_code} {resp.text[:120]!r}")

    async def one(self, kind: str) -> None:
        self.stats.sent[kind] += 1
        try:
            await (self.legit() if kind == "legit" else self.hostile(kind))
        except httpx.HTTPError as exc:  # the server closed on a refused body, a timeout...
            self.stats.errors[f"{kind}:{type(exc).__name__}"] += 1
            if kind == "legit":
                self.stats.legit_failed.append(f"{type(exc).__name__}: {exc}")


# --- the run -----------------------------------------------------------------------------------
async def sampler(server: Server, stats: Stats, every: float, stop: asyncio.Event, t0: float) -> None:
    while True:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            stats.samples.append({"t": round(time.monotonic() - t0, 1), "rss_mb": round(server.rss_mb(), 1),
                                  "fds": server.fds(), "server_cpu_s": round(server.cpu_s(), 1),
                                  "client_cpu_s": round(time.process_time(), 1)})
        if stop.is_set():
            return
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)


async def drive(args: argparse.Namespace, server: Server, stats: Stats) -> float:
    rng = random.Random(args.random_seed)
    kinds = [k for k, weight in args.mix for _ in range(weight)]
    limits = httpx.Limits(max_connections=args.inflight, max_keepalive_connections=args.inflight)
    async with httpx.AsyncClient(base_url=server.url, timeout=httpx.Timeout(30.0), limits=limits) as client:
        traffic = Traffic(client, rng, stats)
        await traffic.setup()
        stop = asyncio.Event()
        t0 = time.monotonic()
        background = [asyncio.create_task(sampler(server, stats, args.sample, stop, t0)),
                      asyncio.create_task(slow_clients(server.port, args.slow, args.slow_hold, stats, stop))]
        total = int(args.rate * args.duration)
        inflight: set[asyncio.Task[None]] = set()
        for i in range(total):
            due = t0 + i / args.rate
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            elif wait < -0.05:
                stats.late += 1
            if len(inflight) >= args.inflight:
                stats.skipped += 1
                continue
            task = asyncio.create_task(traffic.one(rng.choice(kinds)))
            inflight.add(task)
            task.add_done_callback(inflight.discard)
        if inflight:
            await asyncio.wait(inflight, timeout=60)
        elapsed = time.monotonic() - t0
        stop.set()
        await asyncio.wait(background, timeout=args.slow_hold + 10)
        return elapsed


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def summary(args: argparse.Namespace, stats: Stats, elapsed: float, tracebacks: int, exit_code: int) -> dict[str, Any]:
    rss = [s["rss_mb"] for s in stats.samples]
    fds = [s["fds"] for s in stats.samples]
    legit = stats.legit_ok + len(stats.legit_failed)
    return {
        "rate": args.rate, "seconds": round(elapsed, 1), "db": "postgresql" if args.db.startswith("postgres") else "sqlite",
        "sent": sum(stats.sent.values()), "achieved_rate": round(sum(stats.sent.values()) / elapsed, 1) if elapsed else 0,
        "skipped": stats.skipped, "late": stats.late, "by_kind": dict(stats.sent),
        "five_xx": len(stats.five_xx), "server_tracebacks": tracebacks, "client_errors": dict(stats.errors),
        "statuses": dict(sorted(stats.status.items())),
        "legit_calls": legit, "legit_success_rate": round(stats.legit_ok / legit, 4) if legit else None,
        "legit_p50_ms": round(quantile(stats.legit_latency, 0.5) * 1000, 2),
        "legit_p99_ms": round(quantile(stats.legit_latency, 0.99) * 1000, 2),
        "rss_mb": {"first": rss[0] if rss else None, "max": max(rss, default=None), "last": rss[-1] if rss else None},
        "fds": {"first": fds[0] if fds else None, "max": max(fds, default=None), "last": fds[-1] if fds else None},
        "slow": dict(sorted(stats.slow.items())), "slow_held_max_s": round(max(stats.slow_held, default=0), 1),
        "cpu_s": {"server": stats.samples[-1]["server_cpu_s"] - stats.samples[0]["server_cpu_s"] if stats.samples else None,
                  "client": stats.samples[-1]["client_cpu_s"] - stats.samples[0]["client_cpu_s"] if stats.samples else None},
        "server_exit": exit_code, "loadavg_1m": {"start": stats.load[0], "end": stats.load[-1]} if stats.load else None,
        "cpus": os.cpu_count(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", default="sqlite", help="`sqlite` (a temp file) or a database URL")
    ap.add_argument("--rate", type=float, default=200.0, help="requests a second (open loop)")
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--seconds", type=float, default=None, help="overrides --minutes")
    ap.add_argument("--inflight", type=int, default=64, help="requests in flight at most")
    ap.add_argument("--slow", type=int, default=20, help="slow clients open at a time")
    ap.add_argument("--slow-hold", type=float, default=30.0, help="seconds a slow client holds on at most")
    ap.add_argument("--sample", type=float, default=5.0, help="seconds between RSS/fd samples")
    ap.add_argument("--random-seed", type=int, default=15)
    ap.add_argument("--server-args", default="", help="extra `polytag serve` arguments (one string)")
    ap.add_argument("--mix", default="", help="weights per 100 requests, e.g. legit=5,unique_path=95 "
                    f"(default: {','.join(f'{k}={w}' for k, w in MIX)})")
    args = ap.parse_args()
    args.duration = args.seconds if args.seconds is not None else args.minutes * 60
    known = dict(MIX)
    try:
        args.mix = [(k, int(w)) for k, _, w in (p.partition("=") for p in args.mix.split(","))] if args.mix else MIX
    except ValueError:
        ap.error("--mix: KIND=WEIGHT,...")
    if any(k not in known for k, _ in args.mix):
        ap.error(f"--mix: kinds are {sorted(known)}")
    if args.rate <= 0 or args.duration <= 0:
        ap.error("--rate and the duration must be positive")
    stats = Stats()
    with tempfile.TemporaryDirectory(prefix="polytag-soak-") as tmp:
        db = f"sqlite:///{Path(tmp) / 'soak.db'}" if args.db == "sqlite" else args.db
        started = time.monotonic()
        server = Server(db, shlex.split(args.server_args), Path(tmp))
        print(f"server {server.url} pid {server.proc.pid} ready in {time.monotonic() - started:.1f}s; "
              f"{args.rate:g} req/s for {args.duration:g}s, {args.slow} slow clients", flush=True)
        stats.load.append(os.getloadavg()[0])
        try:
            elapsed = asyncio.run(drive(args, server, stats))
            stats.load.append(os.getloadavg()[0])
        finally:
            tracebacks = server.tracebacks()
            exit_code = server.stop()
            server.log.close()
    out = summary(args, stats, elapsed, tracebacks, exit_code)
    for s in stats.samples[:: max(1, len(stats.samples) // 12)]:
        print(f"  t={s['t']:>7}s  rss {s['rss_mb']:>8} MB  fds {s['fds']:>6}")
    print(f"sent {out['sent']} ({out['achieved_rate']}/s), skipped {out['skipped']}, late {out['late']}")
    print(f"5xx: {out['five_xx']}  server tracebacks: {tracebacks}  client errors: {out['client_errors']}")
    for line in stats.five_xx[:10]:
        print(f"  5xx {line}")
    print(f"legit: {out['legit_calls']} calls, success {out['legit_success_rate']}, "
          f"p50 {out['legit_p50_ms']} ms, p99 {out['legit_p99_ms']} ms")
    for line in stats.legit_failed[:5]:
        print(f"  legit failed: {line}")
    print(f"rss MB {out['rss_mb']}  fds {out['fds']}  slow {out['slow']} (held max {out['slow_held_max_s']}s)")
    print(f"cpu seconds over the run: {out['cpu_s']}; load average {out['loadavg_1m']} on {out['cpus']} cpus "
          "(a busy machine lowers the achieved rate, not the server's figures)")
    print(json.dumps(out, ensure_ascii=False))
    sys.exit(1 if stats.five_xx or stats.legit_failed else 0)


if __name__ == "__main__":
    main()
