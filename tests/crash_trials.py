"""Crash-safety trials: fresh database, load, SIGKILL, restart, check; summed over trials."""

from __future__ import annotations

import json
import os
import random
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.crash_check import verify
from tests.crash_driver import WX_TAGS, Plan, Server, TrialResult, client_loop, seed_doc, wx_token


def trial_db(backend: str, workdir: Path, base: str, n: int) -> str:
    """Trial `n`'s fresh database: a SQLite file in `workdir`, or schema `<base's schema>_<n>`."""
    if backend == "sqlite":
        return f"sqlite:///{workdir / 'polytag.db'}"
    return f"{base}_{n}"


Tamper = Callable[[str, str, Plan], None]


def run_trial(db: str, workdir: Path, *, clients: int, seconds: float, followers: int, accounts: int,
              rng: random.Random, tamper: Tamper | None = None) -> TrialResult:
    """One trial on database `db` (fresh and empty): seed, load, SIGKILL, restart, verify.

    `tamper(url, token, plan)` runs on the restarted server before the check (to prove the check
    can fail).
    """
    res = TrialResult()
    server = Server(db, workdir, seed_doc(followers, accounts))
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            token = wx_token(http)
            tag_ids = []
            for j in range(WX_TAGS):
                r = http.post("/cgi-bin/tags/create", params={"access_token": token},
                              content=json.dumps({"tag": {"name": f"crash{j:02d}"}})).json()
                tag_ids.append(int(r["tag"]["id"]))
        plan = Plan(followers, accounts, tag_ids)
        stop = threading.Event()
        threads = [threading.Thread(target=client_loop, daemon=True,
                                    args=(server.url, token, plan, "wechat" if k % 2 == 0 else "im", stop))
                   for k in range(clients)]
        started = time.monotonic()
        for t in threads:
            t.start()
        # the random moment is counted from the first acknowledgement of each dialect (so a slow
        # warm-up cannot leave a trial with nothing to check); 30 s without one: kill anyway
        deadline = started + 30
        while not plan.acked_both() and time.monotonic() < deadline and any(t.is_alive() for t in threads):
            time.sleep(0.01)
        time.sleep(rng.uniform(0.3, 1.0) * seconds)
        server.kill()
        res.kill_after = time.monotonic() - started
        stop.set()
        for t in threads:
            t.join(timeout=60)
        if any(t.is_alive() for t in threads):
            raise RuntimeError("a client thread did not stop after the kill")
    except BaseException:
        server.kill()
        raise
    server = Server(db, workdir)  # the same database, no seed: only what was committed
    try:
        if tamper is not None:
            tamper(server.url, token, plan)
        verify(server.url, token, plan, res)
    finally:
        server.stop()
    return res


@dataclass
class Summary:
    trials: int = 0
    acked: int = 0
    lost: int = 0
    half: int = 0
    phantom: int = 0
    results: list[TrialResult] = field(default_factory=list)

    def add(self, res: TrialResult) -> None:
        self.trials += 1
        self.acked += res.acked
        self.lost += res.lost
        self.half += res.half
        self.phantom += res.phantom
        self.results.append(res)

    def line(self) -> str:
        return (f"trials {self.trials}, acknowledged batches {self.acked}, lost writes {self.lost}, "
                f"half-applied batches {self.half}, phantom pairs {self.phantom}")

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.half == 0 and self.phantom == 0


def run(backend: str, *, trials: int, clients: int, seconds: float, followers: int = 20_000,
        accounts: int = 20_000, pg_url: str = "", seed: int | None = None,
        log: Callable[[str], None] = print, tamper: Tamper | None = None) -> Summary:
    """`trials` trials on `backend` ("sqlite" | "postgresql"), each on a fresh database.

    PostgreSQL: `pg_url` names a schema (`...?schema=S`); trial n uses schema `S_n`, dropped after.
    """
    from polytag.store.postgres import drop_schema

    if backend == "postgresql" and "schema=" not in pg_url:
        raise ValueError(f"pg_url must name a schema (?schema=...): {pg_url!r}")
    rng = random.Random(seed)
    summary = Summary()
    for n in range(trials):
        with tempfile.TemporaryDirectory(prefix="polytag-crash-") as tmp:
            workdir = Path(tmp)
            db = trial_db(backend, workdir, pg_url, n)
            try:
                res = run_trial(db, workdir, clients=clients, seconds=seconds, followers=followers,
                                accounts=accounts, rng=rng, tamper=tamper)
            finally:
                if backend == "postgresql":
                    drop_schema(db)
            summary.add(res)
            log(f"trial {n + 1}/{trials} [{backend}]: {res.line()}")
            for e in res.errors:
                log(f"  ! {e}")
    return summary


def pg_schema_url(dsn: str) -> str:
    """`dsn` with a schema of its own (`pt_crash_<random>`)."""
    sep = "&" if "?" in dsn else "?"
    return f"{dsn}{sep}schema=pt_crash_{uuid.uuid4().hex[:12]}"


def default_pg_dsn() -> str:
    return os.environ.get("POLYTAG_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
