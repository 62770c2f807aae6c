"""Many apps on one server, with and without a memory budget, side by side.

Builds APPS WeChat apps of SUBJECTS followers and TAGS tags each (every tag on a random 5-35 %
of the followers) into one SQLite database, once. Then, for each configuration, starts
`polytag serve` on a fresh copy of it, fetches every app's token, makes one warm-up pass over the
apps (`tags/getidlist`: the directory and every tag), and runs `wrk` for SECONDS with a
round-robin workload over all apps: request r goes to app r mod APPS, and is, in turn, `tags/getidlist`, `tags/members/batchtagging` (50 followers),
`tags/members/batchuntagging` (the same 50) and `tags/get`. Meanwhile the server's RSS is
sampled every 0.25 s. The configurations:

- no budget (`--index-memory 0`): every app stays resident once used;
- budget: `--index-memory` set to hold a tenth of the apps (`--fraction`), from the builder's own
  estimate of one app's index and directory (the same estimate the server enforces).

Prints RSS over time, peak RSS against budget + a fixed overhead (the server's RSS before any app
was used, plus SQLite's page cache: 128 MiB on each of the two connections the calls use),
p50/p99 latency, requests and errors (any answer but HTTP 200 without a
non-zero errcode) per configuration, then one JSON line of every figure.

    python bench/many_apps.py [--apps 500] [--subjects 20000] [--tags 20] [--seconds 30]
                              [--connections 8] [--fraction 0.1] [--keep DIR]

Needs `wrk`. The full size builds 10M followers (a few minutes; `--keep DIR` reuses the build).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
from pyroaring import BitMap

from polytag import dialects
from polytag.core.resident import MB
from polytag.core.service import Service
from polytag.dialects.wechat import seed_app
from polytag.store import open_store

BATCH = 50
# SQLite's page cache is the database's, outside the budget: PRAGMA cache_size=-131072 (128 MiB)
# on each connection; vendor calls read on the event loop's connection and write on the writer's
SQLITE_PAGE_CACHE_MB = 2 * 128
KINDS = 4  # getidlist, batchtagging, batchuntagging, tags/get


def appid(a: int) -> str:
    return f"wxmany{a:012d}"


def openid(a: int, s: int) -> str:
    return f"o{a:06d}{s:021d}"  # 28 characters, as WeChat's


def build(db: str, apps: int, subjects: int, tags: int) -> int:
    """The apps; returns the estimated bytes of one app once fully used (index and directory)."""
    found = dialects.discover()
    svc = Service(open_store(db), dialects.presets(found), index_memory=64 * MB)  # the builder keeps few
    rng = np.random.default_rng(7)
    started = time.perf_counter()
    try:
        for a in range(apps):
            app = seed_app(svc, {"appid": appid(a), "secret": f"s{a}", "limits": {"daily_quotas": {"*": 0}},
                                 "followers": [openid(a, s) for s in range(subjects)],
                                 "tags": [{"name": f"t{t:02d}"} for t in range(tags)]})
            ords = [svc.tags.find(app, f"t{t:02d}").ord for t in range(tags)]  # type: ignore[union-attr]
            members = [BitMap(np.flatnonzero(rng.random(subjects) < 0.05 + 0.3 * rng.random()).tolist())
                       for _ in range(tags)]

            def add(tx: object, app: object = app, ords: list[int] = ords, members: list[BitMap] = members) -> None:
                for tag_ord, m in zip(ords, members, strict=True):
                    svc.memberships.add(tx, app, tag_ord, m, None)  # type: ignore[arg-type]

            svc.write_sync(add)
            if a % 50 == 49:
                print(f"  built {a + 1} apps ({time.perf_counter() - started:.0f} s)", flush=True)
        return one_app_bytes(svc, svc.apps.get(appid(0)))
    finally:
        svc.store.close()


def one_app_bytes(svc: Service, app: object) -> int:
    """What the server holds for an app the workload used: every tag, the counts, the directory."""
    idx = svc.memberships.index(app)  # type: ignore[arg-type]
    idx.loaded()
    _ = idx.counts
    svc.subjects.directory(app)  # type: ignore[arg-type]
    return svc.memberships.bytes_of(idx.app_id) + svc.subjects.bytes_of(idx.app_id)


LUA = r"""
local tokens = {%(tokens)s}
local apps, subjects, tags, batch = %(apps)d, %(subjects)d, %(tags)d, %(batch)d
local threads, tid = {}, 0
function setup(thread)
  thread:set("tid", tid); tid = tid + 1; table.insert(threads, thread)
end
function init(args)
  counter = tonumber(wrk.thread:get("tid")); step = %(threads)d; errors = 0; sample = ""
end
local function ids(a, first)
  local out = {}
  for i = 0, batch - 1 do out[#out + 1] = string.format('"o%%06d%%021d"', a, (first + i) %% subjects) end
  return table.concat(out, ",")
end
function request()
  local r = counter; counter = counter + step
  local a = r %% apps
  local round = math.floor(r / apps)
  local kind = round %% 4
  local q = "?access_token=" .. tokens[a + 1]
  local first = (math.floor(round / 4) * batch) %% subjects
  local tag = 100 + (round %% tags)
  if kind == 0 then
    return wrk.format("POST", "/cgi-bin/tags/getidlist" .. q, nil,
                      string.format('{"openid":"o%%06d%%021d"}', a, first))
  elseif kind == 1 then
    return wrk.format("POST", "/cgi-bin/tags/members/batchtagging" .. q, nil,
                      '{"openid_list":[' .. ids(a, first) .. '],"tagid":' .. tag .. '}')
  elseif kind == 2 then
    return wrk.format("POST", "/cgi-bin/tags/members/batchuntagging" .. q, nil,
                      '{"openid_list":[' .. ids(a, first) .. '],"tagid":' .. (100 + (round + tags - 1) %% tags) .. '}')
  end
  return wrk.format("GET", "/cgi-bin/tags/get" .. q)
end
function response(status, headers, body)
  if status ~= 200 or (string.find(body, '"errcode":', 1, true) and not string.find(body, '"errcode":0', 1, true)) then
    errors = errors + 1
    if sample == "" then sample = string.sub(body, 1, 200) end
  end
end
function done(summary, latency, requests)
  local e = 0
  for _, t in ipairs(threads) do
    e = e + t:get("errors")
    if t:get("sample") ~= "" then io.write("SAMPLE " .. t:get("sample") .. "\n") end
  end
  io.write(string.format("ERRORS %%d\n", e))
  io.write(string.format("P50 %%d\nP99 %%d\n", latency:percentile(50), latency:percentile(99)))
end
"""


def rss_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


class Sampler(threading.Thread):
    """RSS of `pid` every `every` seconds: (seconds since start, bytes)."""

    def __init__(self, pid: int, every: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.samples: list[tuple[float, int]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        t0 = time.perf_counter()
        while not self.stop.wait(self.every):
            self.samples.append((time.perf_counter() - t0, rss_of(self.pid)))


def start(db: str, index_memory_mb: int) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "polytag", "serve", "--port", "0", "--db", db,
                             "--index-memory", str(index_memory_mb)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("polytag ready on "), line
    return proc, line.split(" on ", 1)[1].strip()


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=600) as r:
        return bytes(r.read())


def post(url: str, body: object) -> bytes:
    with urllib.request.urlopen(urllib.request.Request(url, json.dumps(body).encode()), timeout=600) as r:
        return bytes(r.read())


def metrics(url: str) -> dict[str, float]:
    out = {}
    for line in get(f"{url}/metrics").decode().splitlines():
        m = re.match(r"(polytag_index_[a-z_]+) ([0-9.e+]+)$", line)
        if m:
            out[m.group(1)] = float(m.group(2))
    return out


def run(template: Path, workdir: Path, budget_mb: int, args: argparse.Namespace) -> dict[str, object]:
    path = workdir / "run.db"
    for suffix in ("", "-wal", "-shm", "-polytag"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(template, path)
    proc, url = start(f"sqlite:///{path}", budget_mb)
    try:
        tokens = [json.loads(get(f"{url}/cgi-bin/token?grant_type=client_credential&appid={appid(a)}&secret=s{a}"))
                  ["access_token"] for a in range(args.apps)]
        overhead = rss_of(proc.pid)  # the server, tokens issued, no app's index or directory loaded
        sampler = Sampler(proc.pid)
        sampler.start()
        for a in range(args.apps):  # warm-up: every app's directory and tags (no budget: all resident after it)
            post(f"{url}/cgi-bin/tags/getidlist?access_token={tokens[a]}", {"openid": openid(a, 0)})
        warm = len(sampler.samples)
        lua = LUA % {"tokens": ",".join(f'"{t}"' for t in tokens), "apps": args.apps, "subjects": args.subjects,
                     "tags": args.tags, "batch": BATCH, "threads": args.threads}
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
            f.write(lua)
        done = subprocess.run(["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.seconds}s",
                               "--timeout", "30s", "-s", f.name, url], capture_output=True, text=True)
        os.unlink(f.name)
        sampler.stop.set()
        sampler.join()
        if done.returncode:
            sys.exit(f"wrk failed: {done.stdout} {done.stderr}")
        out = done.stdout
        found = metrics(url)
    finally:
        proc.terminate()
        proc.wait()
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = int(re.search(r"ERRORS (\d+)", out).group(1))  # type: ignore[union-attr]
    socket = re.search(r"Socket errors: (.*)", out)  # connect, read, write, timeout
    errors += sum(int(x) for x in re.findall(r"\d+", socket.group(1))) if socket else 0
    sample = re.search(r"SAMPLE (.*)", out)
    rss = [r for _, r in sampler.samples]
    return {
        "budget_mb": budget_mb, "requests": total, "req_s": total / args.seconds, "errors": errors,
        "error_sample": sample.group(1) if sample else None,
        "p50_ms": int(re.search(r"P50 (\d+)", out).group(1)) / 1000,  # type: ignore[union-attr]
        "p99_ms": int(re.search(r"P99 (\d+)", out).group(1)) / 1000,  # type: ignore[union-attr]
        "overhead_mb": overhead / MB, "peak_rss_mb": max(rss) / MB, "end_rss_mb": rss[-1] / MB,
        "peak_rss_measured_mb": max(rss[warm:]) / MB,
        "rss_mb_over_time": [(round(t, 1), round(r / MB)) for t, r in sampler.samples[:: max(1, len(rss) // 40)]],
        "resident_mb": found.get("polytag_index_resident_bytes", 0) / MB,
        "resident_apps": found.get("polytag_index_resident_apps", 0),
        "loads": found.get("polytag_index_app_loads_total", 0),
        "evictions": found.get("polytag_index_evictions_total", 0),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--apps", type=int, default=500)
    ap.add_argument("--subjects", type=int, default=20_000)
    ap.add_argument("--tags", type=int, default=20)
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--fraction", type=float, default=0.1, help="of the apps the budget holds")
    ap.add_argument("--keep", help="keep the built database in this folder (reused next time)")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk not found: apt-get install wrk")
    if args.tags > 20:
        sys.exit("--tags is at most 20 (WeChat's tags per follower)")
    workdir = Path(args.keep or tempfile.mkdtemp(prefix="polytag-many-"))
    template = workdir / f"many-{args.apps}x{args.subjects}x{args.tags}.db"
    sized = template.with_suffix(".bytes")
    try:
        if not sized.exists():
            t0 = time.perf_counter()
            per_app = build(f"sqlite:///{template}", args.apps, args.subjects, args.tags)
            sized.write_text(str(per_app))
            print(f"built {args.apps} apps x {args.subjects:,} followers x {args.tags} tags "
                  f"in {time.perf_counter() - t0:.0f} s", flush=True)
        per_app = int(sized.read_text())
        budget_mb = max(1, round(per_app * args.apps * args.fraction / MB))
        print(f"one app, fully used: {per_app / MB:.2f} MB (estimated); budget for "
              f"{args.fraction:.0%} of {args.apps} apps: {budget_mb} MB", flush=True)
        results = {}
        for name, mb in (("no budget", 0), ("budget", budget_mb)):
            results[name] = got = run(template, workdir, mb, args)
            print(f"{name}: {got['requests']:,} requests ({got['req_s']:.0f}/s), {got['errors']} errors, "
                  f"p50 {got['p50_ms']:.1f} ms, p99 {got['p99_ms']:.1f} ms; RSS peak {got['peak_rss_mb']:.0f} MB "
                  f"(fixed overhead {got['overhead_mb']:.0f} MB), resident {got['resident_mb']:.0f} MB "
                  f"in {got['resident_apps']:.0f} apps, {got['loads']:.0f} loads, {got['evictions']:.0f} evictions",
                  flush=True)
            print("  RSS MB over time: " + " ".join(f"{t:.0f}s:{r}" for t, r in got["rss_mb_over_time"]),  # type: ignore[attr-defined]
                  flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    b, n = results["budget"], results["no budget"]
    fixed = b["overhead_mb"] + SQLITE_PAGE_CACHE_MB  # type: ignore[operator]
    print(f"| {args.apps} apps x {args.subjects:,} x {args.tags} | no budget | budget {budget_mb} MB |")
    print(f"| peak RSS | {n['peak_rss_mb']:.0f} MB | {b['peak_rss_mb']:.0f} MB (bound: budget + fixed overhead "
          f"{fixed:.0f} MB = {budget_mb + fixed:.0f} MB) |")
    print(f"| p50 / p99 | {n['p50_ms']:.1f} / {n['p99_ms']:.1f} ms | {b['p50_ms']:.1f} / {b['p99_ms']:.1f} ms |")
    print(f"| req/s, errors | {n['req_s']:.0f}, {n['errors']} | {b['req_s']:.0f}, {b['errors']} |")
    print(json.dumps({"apps": args.apps, "subjects": args.subjects, "tags": args.tags, "seconds": args.seconds,
                      "connections": args.connections, "per_app_mb": per_app / MB, "budget_mb": budget_mb,
                      "fixed_overhead_mb": fixed, "within_budget_plus_overhead": b["peak_rss_mb"] <= budget_mb + fixed, **{
                          k.replace(" ", "_"): {kk: vv for kk, vv in v.items() if kk != "rss_mb_over_time"}
                          for k, v in results.items()}}))


if __name__ == "__main__":
    main()
