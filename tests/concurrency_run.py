"""Concurrency invariants: a fresh database, two `polytag serve` on it, every scenario, the report."""

from __future__ import annotations

import contextlib
import json
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from polytag import dialects
from polytag.core.service import Service
from polytag.store import open_store
from tests import concurrency_im, concurrency_juzibot, concurrency_wechat
from tests.concurrency_base import WX, Env, seed_doc
from tests.crash_driver import Server

SCENARIOS = {"wechat": concurrency_wechat.run, "im": concurrency_im.run, "juzibot": concurrency_juzibot.run}


def fresh_db(db: str, workdir: Path) -> tuple[str, bool]:
    """(url, is_postgres): `sqlite` -> a file in `workdir`; a PostgreSQL DSN -> a new schema of it."""
    if db == "sqlite":
        return f"sqlite:///{workdir / 'polytag.db'}", False
    if not db.startswith("postgresql://"):
        raise ValueError(f"--db is 'sqlite' or a postgresql:// DSN, not {db!r}")
    sep = "&" if "?" in db else "?"
    return f"{db}{sep}schema=pt_conc_{uuid.uuid4().hex[:12]}", True


@contextlib.contextmanager
def service_of(db: str) -> Iterator[Service]:
    """A Service of our own on the database: reads what is committed, with no server's cache."""
    svc = Service(open_store(db), dialects.presets(dialects.discover()))
    try:
        yield svc
    finally:
        svc.store.close()


Tamper = Callable[[str, Service], None]


def opener(url: str, scenario: str, tamper: Tamper | None) -> Callable[[], contextlib.AbstractContextManager[Service]]:
    """What a scenario's checks open; `tamper(scenario, svc)` first breaks the store once (to prove
    the checks can fail)."""
    pending = [tamper]

    @contextlib.contextmanager
    def open_() -> Iterator[Service]:
        with service_of(url) as svc:
            hook = pending.pop() if pending else None
            if hook is not None:
                hook(scenario, svc)
            yield svc

    return open_


def run(db: str, *, clients: int, ops: int, seed: int = 1, scenarios: tuple[str, ...] = tuple(SCENARIOS),
        log: Callable[[str], None] = print, tamper: Tamper | None = None) -> dict[str, Any]:
    """Every scenario against two servers on a fresh `db`; the report (see Tally.to_dict)."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="polytag-conc-") as tmp:
        url, is_pg = fresh_db(db, Path(tmp))
        servers: list[Server] = []
        try:
            doc = seed_doc(concurrency_wechat.FOLLOWERS, concurrency_im.ACCOUNTS, ["rocky", "lily"], ["ozConcurrencyCustomer0001"])
            servers.append(Server(url, Path(tmp), doc))
            servers.append(Server(url, Path(tmp)))  # the same database, already seeded
            with httpx.Client(base_url=servers[0].url, timeout=60) as http:
                token = http.get("/cgi-bin/token", params={"grant_type": "client_credential", **WX}).json()
            env = Env(url, servers, str(token["access_token"]), seed=seed)
            for name in scenarios:
                t0 = time.monotonic()
                SCENARIOS[name](env, clients, ops, opener(url, name, tamper))
                log(f"{name}: done in {time.monotonic() - t0:.1f}s, violations so far "
                    f"{env.tally.total_violations}")
        finally:
            for s in servers:
                s.stop()
            if is_pg:
                from polytag.store.postgres import drop_schema

                drop_schema(url)
    report = env.tally.to_dict()
    report.update(backend="postgresql" if is_pg else "sqlite", processes=2, clients=clients, ops=ops,
                  seed=seed, scenarios=list(scenarios), seconds=round(time.monotonic() - started, 1))
    return report


def text(report: dict[str, Any]) -> str:
    """The report as lines of text (from the dict, so a JSON report prints the same)."""
    head = (f"concurrency: 2 processes on {report['backend']}, {report['clients']} clients, "
            f"{report['ops']} ops per client per phase, {report['seconds']}s")
    lines = [head, f"{'operation':38} {'tried':>7} {'ok':>7} {'unknown':>7}  refused (code x count)"]
    for kind, o in report["operations"].items():
        refused = " ".join(f"{c}x{n}" for c, n in o["refused"].items())
        lines.append(f"{kind:38} {o['tried']:>7} {o['ok']:>7} {o['unknown']:>7}  {refused}")
    lines.append(f"total: tried {report['tried']}, ok {report['ok']}, refused "
                 + (", ".join(f"{c}x{n}" for c, n in report["refused_by_code"].items()) or "none"))
    lines.append(f"violations: {report['violation_count']}")
    lines += [f"  {rule}: {n}" for rule, n in report["violations"].items()]
    lines += [f"  ! {e}" for e in report["examples"]]
    return "\n".join(lines)


def dumps(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False)
