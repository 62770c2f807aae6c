"""batchtagging over HTTP into an app holding 10M memberships, side by side with a no-op route.

Builds the data itself (1M followers x 10 tags = 10M memberships, 100 tags). Each run
starts `polytag serve` on a fresh copy of it, warms it up with 2 s of batchtagging, then
runs wrk against `/_polytag/noop` (same server, same body, nothing stored) and
`/cgi-bin/tags/members/batchtagging` (50 fresh memberships per request). It prints req/s
for each and the ratio of medians. Every batchtagging response is checked for errcode 0,
and the stored membership count against the acknowledged requests.

    python bench/batchtagging.py [--followers 1000000] [--runs 3] [--seconds 10]

Needs `wrk` (Debian package `wrk`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from pyroaring import BitMap

from polytag import dialects
from polytag.core.service import Service
from polytag.dialects.wechat import seed_app
from polytag.store import open_store

APPID, SECRET = "wxbench00000000001", "benchsecret0000000000000000000000"
TAGS, PRELOAD_TAGS, BATCH = 100, 10, 50

LUA = r"""
local threads, tid = {}, 0
function setup(thread)
  thread:set("tid", tid); tid = tid + 1; table.insert(threads, thread)
end
function init(args)
  counter = %(tid_base)d + tonumber(wrk.thread:get("tid")); step = %(threads)d; errors = 0
end
function request()
  -- block b of 50 followers, round k: tag (start+60+k) %% 100 is one none of them has yet
  local r = counter; counter = counter + step
  local blocks = %(followers)d / 50
  local b, k = r %% blocks, math.floor(r / blocks) %% 10
  local first = b * 50
  local start = (first %% 100 < 50) and 0 or 50
  local tag = 100 + ((start + 60 + k) %% 100)
  local ids = {}
  for i = 0, 49 do ids[#ids + 1] = string.format('"o%%027d"', first + i) end
  local body = '{"openid_list":[' .. table.concat(ids, ",") .. '],"tagid":' .. tag .. '}'
  return wrk.format("POST", nil, nil, body)
end
function response(status, headers, body)
  if not string.find(body, '"errcode":0', 1, true) then errors = errors + 1 end
end
function done(summary, latency, requests)
  local e, top = 0, 0
  for _, t in ipairs(threads) do
    e = e + t:get("errors"); top = math.max(top, t:get("counter"))
  end
  io.write(string.format("ERRORS %%d\nNEXT %%d\n", e, top))
end
"""


def build(db: str, followers: int, appid: str = APPID) -> None:
    """The bench app: followers o000..., 100 tags, follower i carries tags i%100 .. i%100+9."""
    found = dialects.discover()
    svc = Service(open_store(db), dialects.presets(found))
    try:
        # no daily call quota for the bench app (the emulator's WeChat quotas would stop it)
        app = seed_app(svc, {"appid": appid, "secret": SECRET, "followers": [],
                             "limits": {"daily_quotas": {"*": 0}}})
        ids = [f"o{i:027d}" for i in range(followers)]
        step = 200_000
        for start in range(0, followers, step):
            chunk = ids[start:start + step]
            svc.write_sync(lambda tx, c=chunk: svc.subjects.create(tx, app, c, int(time.time())))
        tag_ords = svc.write_sync(lambda tx: [
            svc.tags.create(tx, app, f"t{t:03d}").ord for t in range(TAGS)])
        for t in range(TAGS):
            members = BitMap()
            for k in range(PRELOAD_TAGS):  # followers i with (i + k) % 100 == t ... i%100 == t-k
                base = (t - k) % 100
                members.update(range(base, followers, 100))
            # subject ordinal == follower index (created in order after no others)
            svc.write_sync(lambda tx, t=t, m=members: svc.memberships.add(tx, app, tag_ords[t], m, None))
        idx = svc.memberships.index(app)
        print(f"built: {followers:,} followers, {sum(len(b) for b in idx.loaded().values()):,} memberships",
              flush=True)
    finally:
        svc.store.close()


def start(db: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "polytag", "serve", "--port", "0", "--db", db],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("polytag ready on "), line
    return proc, line.split(" on ", 1)[1].strip()


def wrk(url: str, path: str, lua: str, seconds: int, conns: int, threads: int) -> tuple[float, int, int, int]:
    """(req/s, requests completed, responses without errcode 0, the first request number not sent)"""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(lua)
    proc = subprocess.run(["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "-s", f.name, url + path],
                          capture_output=True, text=True)
    if proc.returncode:
        sys.exit(f"wrk failed: {proc.stdout} {proc.stderr}")
    out = proc.stdout
    os.unlink(f.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = sum(int(x) for x in re.findall(r"ERRORS (\d+)", out))
    nxt = int(re.search(r"NEXT (\d+)", out).group(1))  # type: ignore[union-attr]
    return rps, total, errors, nxt


def cpu_seconds(pid: int) -> float:
    """User + system CPU of the server process, all threads (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(pid: int, *args: object) -> tuple[float, int, int, int, float]:
    """wrk(...) plus the server's CPU microseconds per completed request."""
    before = cpu_seconds(pid)
    result = wrk(*args)  # type: ignore[arg-type]
    return (*result, (cpu_seconds(pid) - before) / max(result[1], 1) * 1e6)


def memberships(url: str, token: str) -> int:
    with urllib.request.urlopen(f"{url}/cgi-bin/tags/get?access_token={token}") as r:
        return sum(t["count"] for t in json.load(r)["tags"])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--followers", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--keep", help="keep the built template database in this folder (reused next time)")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk not found: apt-get install wrk")
    workdir = Path(args.keep or tempfile.mkdtemp(prefix="polytag-bench-"))
    template = workdir / f"template-{args.followers}.db"
    if not template.exists():
        build(f"sqlite:///{template}", args.followers)
    capacity = args.followers // BATCH * (20 - PRELOAD_TAGS)  # fresh requests before the 20-tag cap
    noop, tag, noop_cpu, tag_cpu = [], [], [], []
    added = acked = 0
    for run in range(args.runs + 1):  # the first pair is a warm-up
        # every pair starts a server on a fresh copy of the 10M memberships, so every pair it
        # sends is fresh (one server for all runs would run out of them at these rates)
        path = workdir / "run.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(template, path)
        proc, url = start(f"sqlite:///{path}")
        try:
            with urllib.request.urlopen(
                f"{url}/cgi-bin/token?grant_type=client_credential&appid={APPID}&secret={SECRET}"
            ) as r:
                token = json.load(r)["access_token"]
            before = memberships(url, token)
            target = f"/cgi-bin/tags/members/batchtagging?access_token={token}"
            lua = LUA % {"followers": args.followers, "tid_base": 0, "threads": args.threads}
            warm = wrk(url, target, lua, 2, args.connections, args.threads)  # loads the index
            n = measured(proc.pid, url, "/_polytag/noop", lua, args.seconds, args.connections, args.threads)
            lua = LUA % {"followers": args.followers, "tid_base": warm[3], "threads": args.threads}
            b = measured(proc.pid, url, target, lua, args.seconds, args.connections, args.threads)
            if b[3] > capacity:
                sys.exit(f"ran out of fresh memberships ({b[3]:,} requests numbered, {capacity:,} fresh): "
                         "use more --followers or fewer --seconds")
            after = memberships(url, token)
        finally:
            proc.terminate()
            proc.wait()
        print(f"run {run}{' (warm-up)' if run == 0 else ''}: noop {n[0]:,.0f} req/s "
              f"({n[4]:.0f} us CPU/req); batchtagging {b[0]:,.0f} req/s ({b[4]:.0f} us CPU/req), "
              f"{b[2] + warm[2]} non-zero errcodes; memberships +{after - before:,}", flush=True)
        added += after - before
        acked += warm[1] + b[1]
        if run:
            noop.append(n[0])
            tag.append(b[0])
            noop_cpu.append(n[4])
            tag_cpu.append(b[4])
    ratio = statistics.median(tag) / statistics.median(noop)
    print(f"memberships added {added:,}; {BATCH} x requests answered ok = {BATCH * acked:,} (more is requests "
          "answered after wrk stopped counting; less would be a lost write)")
    print(f"median noop {statistics.median(noop):,.0f} req/s, batchtagging {statistics.median(tag):,.0f} req/s "
          f"({statistics.median(tag) * BATCH:,.0f} memberships/s); ratio {ratio:.2f} (target 0.5)")
    print(f"server CPU per request: noop {statistics.median(noop_cpu):.0f} us, batchtagging "
          f"{statistics.median(tag_cpu):.0f} us; CPU ratio {statistics.median(noop_cpu) / statistics.median(tag_cpu):.2f}")
    if added < BATCH * acked:
        sys.exit("LOST WRITES: fewer memberships than acknowledged")

if __name__ == "__main__":
    main()
