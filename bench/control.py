"""Control plane costs: reset of a 50,000-follower WeChat app, and the journal's memory when full.

    .venv/bin/python bench/control.py [--followers 50000] [--journal 1000]

Prints numbers; asserts nothing (benchmarks are not tests).
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from polytag.app import create_app
from polytag.config import Settings
from polytag.control.plane import ControlPlane, _planes
from polytag.core.ids import generated_ext_ids

# starlette's TestClient names its Host `testserver` and its peer `testclient` (polytag.guard)
IN_PROCESS: dict[str, Any] = {"allowed_hosts": ("testserver",), "trusted_peers": ("testclient",)}


def bench_reset(followers: int, rounds: int) -> None:
    tmp = Path(tempfile.mkdtemp())
    seed = tmp / "seed.json"
    seed.write_text(json.dumps({"apps": [
        {"dialect": "wechat", "appid": "wxbench", "secret": "s", "followers": {"generate": followers},
         "tags": [{"name": "all"}]}]}), "utf-8")
    settings = Settings(db=f"sqlite:///{tmp / 'bench.db'}", seeds=(str(seed),), admin_key=None, **IN_PROCESS)
    with TestClient(create_app(settings)) as c:
        token = c.get("/cgi-bin/token", params={"grant_type": "client_credential", "appid": "wxbench",
                                                 "secret": "s"}).json()["access_token"]
        fans = generated_ext_ids("wechat:wxbench", followers)
        for i in range(0, followers, 50):  # every follower carries tag 100: rows in every table
            c.post("/cgi-bin/tags/members/batchtagging", params={"access_token": token},
                   json={"openid_list": fans[i:i + 50], "tagid": 100})
        for path, body in (("/_polytag/reset", {"app": "wxbench"}), ("/_polytag/reset", {})):
            times = []
            for _ in range(rounds):
                started = time.perf_counter()
                resp = c.post(path, json=body)
                times.append(time.perf_counter() - started)
                assert resp.status_code == 200, resp.text
            print(f"reset {json.dumps(body)} of a {followers:,}-follower app: median {statistics.median(times)*1000:.0f} ms, "
                  f"min {min(times)*1000:.0f} ms over {rounds} (HTTP round trip, sqlite, synchronous=FULL)")


def bench_journal(size: int) -> None:
    """Fill the journal with realistic WeChat calls (batchtagging of 50 openids, user/get pages)."""
    tmp = Path(tempfile.mkdtemp())
    openids = [f"o{i:027d}" for i in range(50)]
    seed = tmp / "seed.json"
    seed.write_text(json.dumps({"apps": [{"dialect": "wechat", "appid": "wxj", "secret": "s",
                                          "followers": openids, "tags": [{"name": "t"}]}]}), "utf-8")
    with TestClient(create_app(Settings(db=f"sqlite:///{tmp / 'j.db'}", seeds=(str(seed),), **IN_PROCESS))) as c:
        plane: ControlPlane = _planes[c.app.state.service]  # type: ignore[attr-defined]
        plane.journal.resize(size)
        token = c.get("/cgi-bin/token", params={"grant_type": "client_credential", "appid": "wxj",
                                                 "secret": "s"}).json()["access_token"]
        plane.journal.clear()
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.take_snapshot()
        for i in range(size):
            if i % 2:
                c.post("/cgi-bin/tags/members/batchtagging", params={"access_token": token},
                       json={"openid_list": openids, "tagid": 100})
            else:
                c.get("/cgi-bin/user/get", params={"access_token": token})
        gc.collect()
        after = tracemalloc.take_snapshot()
        tracemalloc.stop()
        grown = sum(s.size_diff for s in after.compare_to(before, "filename"))
        print(f"journal of {len(plane.journal):,} entries (half batchtagging of 50 openids, half user/get "
              f"of 50 followers): {grown / 1e6:.2f} MB traced growth, {grown / max(1, len(plane.journal)):.0f} B/entry")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--followers", type=int, default=50_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--journal", type=int, default=1000)
    args = ap.parse_args()
    bench_reset(args.followers, args.rounds)
    bench_journal(args.journal)
