"""The floor under issue 2's ratio: the least a batchtagging request can cost in this stack.

A toy ASGI app on the same HTTP stack as `polytag serve` (uvicorn, httptools, uvloop, and
polytag's own lean `read_body`/`send_bytes`) with a route that does only what a durable
batchtagging must: parse the JSON body, resolve 50 openids among 1M (polytag's OrdMap), diff
the batch against the tag's bitmap, test it against a bitmap of followers at the cap, queue one
log row (the serialized bitmap) and answer once a group commit has made it durable (SQLite,
WAL, synchronous=FULL, BEGIN IMMEDIATE / executemany / COMMIT in one worker thread, as
polytag's writer). No access token, quota, fault injection, journal, metrics, request id,
per-subject counts, fold, or undo. The same `wrk` script as `bench/batchtagging.py` runs
against its no-op route and this one, side by side; with `--volatile` the route skips SQLite
and answers every 2 ms.

    python bench/floor.py [--seconds 8] [--runs 2] [--volatile]

What polytag's own route costs above this floor is what its features cost (docs/performance.md).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson
from pyroaring import BitMap

from polytag.core.ordmap import OrdMap
from polytag.dialects._http import read_body, send_bytes

FOLLOWERS = 1_000_000
OK = b'{"errcode":0,"errmsg":"ok"}'


class Floor:
    def __init__(self, db: str | None) -> None:
        self.directory = OrdMap()
        self.directory.extend([f"o{i:027d}" for i in range(FOLLOWERS)], 0)
        self.members = {t: BitMap() for t in range(100, 200)}
        self.at_cap = BitMap()
        self.waiting: list[asyncio.Future[None]] = []
        self.rows: list[tuple[int, bytes]] = []
        self.busy = False
        self.pool = ThreadPoolExecutor(1)
        self.db = None
        if db:
            self.db = sqlite3.connect(db, check_same_thread=False, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.execute("CREATE TABLE IF NOT EXISTS log(seq INTEGER PRIMARY KEY, tag INTEGER, bits BLOB)")

    def commit(self, rows: list[tuple[int, bytes]]) -> None:
        assert self.db is not None
        self.db.execute("BEGIN IMMEDIATE")
        self.db.executemany("INSERT INTO log(tag, bits) VALUES (?, ?)", rows)
        self.db.execute("COMMIT")

    def flush(self) -> None:
        waiting, self.waiting = self.waiting, []
        rows, self.rows = self.rows, []
        if self.db is None:
            for fut in waiting:
                fut.set_result(None)
            return
        self.busy = True

        def done(_: Any) -> None:
            for fut in waiting:
                fut.set_result(None)
            self.busy = False
            if self.waiting:
                self.flush()

        asyncio.get_running_loop().run_in_executor(self.pool, self.commit, rows).add_done_callback(done)

    async def tag(self, body: bytes) -> bytes:
        doc = orjson.loads(body)
        ords = self.directory.get_many(doc["openid_list"])
        tag = self.members[doc["tagid"]]
        new = BitMap(ords) - tag
        if new & self.at_cap:
            return b'{"errcode":45059,"errmsg":"cap"}'
        tag |= new
        self.rows.append((doc["tagid"], new.serialize()))
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        self.waiting.append(fut)
        if self.db is None:
            if len(self.waiting) == 1:
                loop.call_later(0.002, self.flush)
        elif not self.busy and len(self.waiting) == 1:
            loop.call_soon(self.flush)
        await fut
        return orjson.dumps({"errcode": 0, "errmsg": "ok"})


_floor: Floor | None = None


async def app(scope: Any, receive: Any, send: Any) -> None:
    global _floor
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                _floor = Floor(os.environ.get("FLOOR_DB") or None)
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    assert _floor is not None
    body = await read_body(receive)
    answer = await _floor.tag(body) if scope["path"] == "/tag" else OK
    await send_bytes(send, 200, answer, "application/json")


def main() -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    import batchtagging as bt  # the same wrk script and CPU accounting

    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--volatile", action="store_true", help="no SQLite: answer every 2 ms")
    args = ap.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tmp = tempfile.mkdtemp(prefix="polytag-floor-")
    env = {**os.environ, "FLOOR_DB": "" if args.volatile else f"{tmp}/floor.db"}
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "--app-dir", str(Path(__file__).parent),
                             "floor:app", "--port", str(port), "--log-level", "warning", "--no-access-log"],
                            env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.5)
        lua = bt.LUA % {"followers": FOLLOWERS, "tid_base": 0, "threads": 2}
        noop, tag = [], []
        for run in range(args.runs):
            n = bt.measured(proc.pid, url, "/noop", lua, args.seconds, 64, 2)
            t = bt.measured(proc.pid, url, "/tag", lua, args.seconds, 64, 2)
            if t[2]:
                sys.exit(f"{t[2]} answers without errcode 0")
            noop.append(n[0])
            tag.append(t[0])
            print(f"run {run + 1}: noop {n[0]:,.0f} req/s ({n[4]:.0f} us CPU/req); floor batchtagging "
                  f"{t[0]:,.0f} req/s ({t[4]:.0f} us CPU/req); ratio {t[0] / n[0]:.2f}", flush=True)
        kind = "volatile" if args.volatile else "durable"
        print(f"median: noop {statistics.median(noop):,.0f}, {kind} floor {statistics.median(tag):,.0f} req/s; "
              f"ratio {statistics.median(tag) / statistics.median(noop):.2f}")
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
