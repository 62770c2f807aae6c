"""Shared fixtures: a database per test, the Service over it, an in-process app, a live server."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from starlette.testclient import TestClient

from polytag import dialects, seed
from polytag.app import create_app
from polytag.config import Settings
from polytag.core.service import Service
from polytag.store import open_store
from tests import ID_SEED

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ["sqlite", "postgresql"]
# What starlette's TestClient sends (Host `testserver`, peer `testclient`), allowed explicitly:
# Settings(..., **IN_PROCESS) for an app a TestClient drives (polytag.guard refuses both by default).
IN_PROCESS: dict[str, Any] = {"allowed_hosts": ("testserver",), "trusted_peers": ("testclient",)}


DEFAULT_PG_DSN = "postgresql://postgres@127.0.0.1:5432/test"


@functools.cache
def _answers(dsn: str) -> bool:
    """Whether a PostgreSQL server accepts a connection at `dsn` (asked once per run)."""
    try:
        import psycopg

        psycopg.connect(dsn, connect_timeout=2).close()
    except Exception:
        return False
    return True


def pg_dsn() -> str:
    """The PostgreSQL server for tests: POLYTAG_TEST_PG_DSN, else the default address when a server
    answers there (the run's header says which). Skips when none answers; POLYTAG_REQUIRE_PG=1 fails."""
    dsn = os.environ.get("POLYTAG_TEST_PG_DSN", "")
    if not dsn and _answers(DEFAULT_PG_DSN):
        dsn = DEFAULT_PG_DSN
    if not dsn:
        if os.environ.get("POLYTAG_REQUIRE_PG") == "1":
            pytest.fail("POLYTAG_REQUIRE_PG=1 but no PostgreSQL: set POLYTAG_TEST_PG_DSN")
        pytest.skip(f"PostgreSQL not configured and none answers at {DEFAULT_PG_DSN}: "
                    "set POLYTAG_TEST_PG_DSN=postgresql://USER@HOST:PORT/DB")
    return dsn


def pytest_report_header(config: pytest.Config) -> str:
    dsn = os.environ.get("POLYTAG_TEST_PG_DSN", "")
    if dsn:
        return f"polytag: PostgreSQL tests use POLYTAG_TEST_PG_DSN={dsn}"
    if _answers(DEFAULT_PG_DSN):
        return f"polytag: PostgreSQL tests use the server found at {DEFAULT_PG_DSN}"
    return f"polytag: no PostgreSQL at {DEFAULT_PG_DSN}: its tests are skipped (set POLYTAG_TEST_PG_DSN)"


def module_db_url(backend: str) -> str | None:
    """A database for a module-level app (the schemathesis suites build theirs at import): a SQLite
    file in a temp dir, or a PostgreSQL schema of its own; both removed at exit. None when the
    backend is PostgreSQL and none answers (the suite's PostgreSQL test then calls pg_dsn())."""
    import atexit
    import shutil

    if backend == "sqlite":
        folder = tempfile.mkdtemp(prefix="polytag-module-db-")
        atexit.register(shutil.rmtree, folder, True)
        return f"sqlite:///{Path(folder) / 'polytag.db'}"
    dsn = os.environ.get("POLYTAG_TEST_PG_DSN", "") or (DEFAULT_PG_DSN if _answers(DEFAULT_PG_DSN) else "")
    if not dsn:
        return None
    from polytag.store.postgres import drop_schema

    url = f"{dsn}{'&' if '?' in dsn else '?'}schema=pt_{uuid.uuid4().hex[:16]}"
    atexit.register(drop_schema, url)
    return url


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database of each backend (PostgreSQL: a schema of its own, dropped after)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'polytag.db'}"
        return
    from polytag.store.postgres import drop_schema

    dsn = pg_dsn()
    sep = "&" if "?" in dsn else "?"
    url = f"{dsn}{sep}schema=pt_{uuid.uuid4().hex[:16]}"
    yield url
    drop_schema(url)


@pytest.fixture
def service(db_url: str) -> Iterator[Service]:
    found = dialects.discover()
    svc = Service(open_store(db_url), dialects.presets(found), id_seed=ID_SEED)  # JuziBot ids known
    yield svc
    svc.store.close()


@pytest.fixture
def seeded(service: Service) -> Callable[[dict[str, Any]], list[Any]]:
    """Apply a seed document (a dict with `apps:`) to the test's service."""
    found = dialects.discover()
    return lambda doc: seed.apply(service, seed.validate(doc), found)


@pytest.fixture
def receivers() -> Iterator[Callable[..., Any]]:
    """Callback receivers on free loopback ports (`receivers(receive_id, **kw)`: the app or corp id
    its ciphertexts must name), stopped after the test."""
    from polytag.callbacks.receiver import Receiver

    made: list[Receiver] = []

    def make(receive_id: str, **kw: Any) -> Receiver:
        made.append(Receiver(receive_id=receive_id, **kw).start())
        return made[-1]

    yield make
    for r in made:
        r.stop()


@pytest.fixture
def client(service: Service) -> Iterator[TestClient]:
    """An in-process HTTP client over the test's service (no network)."""
    app = create_app(Settings(db=service.store.url, **IN_PROCESS), service)
    with TestClient(app) as c:
        yield c


class LiveServer:
    def __init__(self, url: str, proc: subprocess.Popen[str]) -> None:
        self.url, self.proc = url, proc


def start_server(db: str, seed_doc: dict[str, Any] | None = None, extra: list[str] | None = None) -> LiveServer:
    """`polytag serve --port 0` in a subprocess; returns once it printed its ready line."""
    args = [sys.executable, "-m", "polytag", "serve", "--port", "0", "--db", db, *(extra or [])]
    if seed_doc is not None:
        fd, path = tempfile.mkstemp(suffix=".yaml")
        with os.fdopen(fd, "w") as f:
            yaml.safe_dump(seed_doc, f, allow_unicode=True)
        args += ["--seed", path]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("polytag ready on "):
        proc.kill()
        err = proc.stderr.read() if proc.stderr else ""
        proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()
        raise RuntimeError(f"server did not start: {line!r} {err}")
    return LiveServer(line.split(" on ", 1)[1].strip(), proc)


def stop_server(server: LiveServer) -> None:
    server.proc.terminate()
    try:
        server.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait()
    for stream in (server.proc.stdout, server.proc.stderr):
        if stream:
            stream.close()


@pytest.fixture
def live_server(db_url: str) -> Iterator[Callable[..., LiveServer]]:
    """A factory: `live_server(seed_doc)` starts a real server on the test's database."""
    started: list[LiveServer] = []

    def start(seed_doc: dict[str, Any] | None = None, extra: list[str] | None = None) -> LiveServer:
        server = start_server(db_url, seed_doc, extra)
        started.append(server)
        return server

    yield start
    for server in started:
        stop_server(server)
