"""PostgreSQL-only test helpers: a fresh schema per test and a store on it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import pg_dsn

psycopg = pytest.importorskip("psycopg")
from polytag.store import open_store, postgres  # noqa: E402  (after the importorskip)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh schema on the test server, dropped afterwards."""
    dsn = pg_dsn()
    url = f"{dsn}{'&' if '?' in dsn else '?'}schema=pt_{uuid.uuid4().hex[:16]}"
    yield url
    postgres.drop_schema(url)


@pytest.fixture
def store(pg_url: str) -> Iterator[postgres.PostgresStore]:
    s = open_store(pg_url)
    assert isinstance(s, postgres.PostgresStore)
    yield s
    s.close()


def backend_pid(conn: Any) -> int:
    return int(conn.info.backend_pid)


def terminate(url: str, pid: int) -> None:
    with postgres.admin_connection(url) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


def new_app(store: postgres.PostgresStore, name: str = "app") -> int:
    return store.write(lambda tx: tx.insert_app("wechat", name, "h", "s", "{}", 1.0))
