"""Tokens and apps are served from per-process caches on SQLite, never staler than a read.

A hit costs no query; any write to an app or a token, through any Service on the database
(standing for another process), makes the next call read again. tests/test_multiprocess.py
keeps the revoked-token and changed-limits cases across two Services.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from polytag import dialects, seed
from polytag.core.service import Service
from polytag.errors import Unauthorized
from polytag.store import open_store
from polytag.store.postgres.generation import PgGeneration

APP = {"dialect": "wechat", "appid": "wx00000000000fresh1", "secret": "fresh-secret", "followers": ["f1"]}


def _run(coro: Any) -> Any:
    """asyncio.run on a thread of its own: it refuses a thread where another test of the run
    left an event loop marked running (seen in the serial run, not under xdist)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result(120)


class CountingRows:
    """The store's rows, counting the token and app reads that reach the database."""

    def __init__(self, rows: Any, counts: dict[str, int]) -> None:
        self._rows, self._counts = rows, counts

    def token(self, h: str) -> Any:
        self._counts["token"] += 1
        return self._rows.token(h)

    def app_by_id(self, app_id: int) -> Any:
        self._counts["app"] += 1
        return self._rows.app_by_id(app_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._rows, name)


@pytest.fixture
def services(db_url: str) -> Iterator[tuple[Service, Service, dict[str, int]]]:
    yield from two_services(db_url)


def two_services(db_url: str) -> Iterator[tuple[Service, Service, dict[str, int]]]:
    found = dialects.discover()
    one = Service(open_store(db_url), dialects.presets(found))
    seed.apply(one, seed.validate({"apps": [APP]}), found)
    other = Service(open_store(db_url), dialects.presets(found))
    counts = {"token": 0, "app": 0}
    read = one.store.read
    one.store.read = lambda: CountingRows(read(), counts)  # type: ignore[method-assign]
    yield one, other, counts
    one.store.close()
    other.store.close()


def test_a_hit_reads_nothing_and_any_write_reads_again(services: tuple[Service, Service, dict[str, int]]) -> None:
    one, other, counts = services
    app = one.apps.get(APP["appid"])
    ttl = {"token": 7200}
    issued = one.write_sync(lambda tx: one.tokens.issue(tx, app.id, "token", 7200, 300))
    for _ in range(3):
        assert one.tokens.check(issued.token, ttl) == (app.id, "token")
        assert one.apps.by_id(app.id).name == APP["appid"]
    cached = one.store.backend == "sqlite"
    assert counts == ({"token": 1, "app": 1} if cached else {"token": 3, "app": 3})
    # another process issues a token of the same app (it caps this one's expiry): read again
    other.write_sync(lambda tx: other.tokens.issue(tx, app.id, "token", 7200, 300))
    assert one.tokens.check(issued.token, ttl) == (app.id, "token")
    one.apps.by_id(app.id)
    assert counts == ({"token": 2, "app": 2} if cached else {"token": 4, "app": 4})


@pytest.fixture
def sqlite_services(tmp_path: Path) -> Iterator[tuple[Service, Service, dict[str, int]]]:
    """SQLite only: PostgreSQL caches nothing (every call reads its rows, see the test above)."""
    yield from two_services(f"sqlite:///{tmp_path / 'fresh.db'}")


def test_a_membership_write_keeps_the_caches(sqlite_services: tuple[Service, Service, dict[str, int]]) -> None:
    """Tagging (a pure write) changes no app and no token: the next call still reads nothing."""
    one, _, counts = sqlite_services
    app = one.apps.get(APP["appid"])
    tag = one.write_sync(lambda tx: one.tags.create(tx, app, "vip"))
    issued = one.write_sync(lambda tx: one.tokens.issue(tx, app.id, "token", 7200, 300))
    one.tokens.check(issued.token, {"token": 7200})
    one.apps.by_id(app.id)
    before = dict(counts)
    one.store.submit(lambda tx: one.tag_subjects(tx, app, tag.ext_id, ["f1"]), pure=True).result(60)
    one.tokens.check(issued.token, {"token": 7200})
    one.apps.by_id(app.id)
    assert counts == before


# PostgreSQL: a copy of a token and its app, exact while the database's generation holds ------
@pytest.fixture
def pg_services() -> Iterator[tuple[Service, Service, dict[str, int]]]:
    """Two Services (standing for two processes, on any hosts) on one PostgreSQL schema."""
    from tests.conftest import pg_dsn

    pytest.importorskip("psycopg")
    from polytag.store.postgres import drop_schema

    dsn = pg_dsn()
    url = f"{dsn}{'&' if '?' in dsn else '?'}schema=pt_{uuid.uuid4().hex[:16]}"
    try:
        yield from two_services(url)
    finally:
        drop_schema(url)


def counted(service: Service) -> dict[str, int]:
    """Counts the joined token + app reads that reach the database."""
    database = service.store.database_generation
    assert database is not None
    counts = {"joined": 0}
    read = database.token_and_app

    def token_and_app(h: str) -> Any:
        counts["joined"] += 1
        return read(h)

    database.token_and_app = token_and_app  # type: ignore[method-assign]
    return counts


def authenticate(service: Service, token: str, ttl: dict[str, int]) -> tuple[tuple[int, str], str]:
    """What the WeChat dialect does per call on PostgreSQL: (app_id, kind) and the app's name."""

    async def call() -> tuple[tuple[int, str], str]:
        got = await service.tokens.with_app_now(token)
        if got is None:
            raise Unauthorized("invalid")
        return service.tokens.check(token, ttl, got[0]), service.apps.of_row(got[1]).name

    return _run(call())


def test_postgresql_serves_a_token_copy_until_any_process_writes_a_token_or_an_app(
    pg_services: tuple[Service, Service, dict[str, int]],
) -> None:
    one, other, _ = pg_services
    app = one.apps.get(APP["appid"])
    tag = one.write_sync(lambda tx: one.tags.create(tx, app, "vip"))
    ttl = {"token": 7200}
    issued = one.write_sync(lambda tx: one.tokens.issue(tx, app.id, "token", 7200, 300))
    reads = counted(other)
    for _ in range(3):
        assert authenticate(other, issued.token, ttl) == ((app.id, "token"), APP["appid"])
    assert reads == {"joined": 1}
    # a membership write (pure) changes no app and no token: the copy still serves
    one.store.submit(lambda tx: one.tag_subjects(tx, app, tag.ext_id, ["f1"]), pure=True).result(60)
    assert authenticate(other, issued.token, ttl)[0] == (app.id, "token")
    assert reads == {"joined": 1}
    # the app changes through the first process: the other sees the new row at once
    one.write_sync(lambda tx: tx.update_app(app.id, "h2", "s2", '{"wrong_secret_code": 40001}'))
    assert authenticate(other, issued.token, ttl)[0] == (app.id, "token")
    assert reads == {"joined": 2}
    # the first process issues a token with no overlap: the old one is refused by the other at once
    one.write_sync(lambda tx: one.tokens.issue(tx, app.id, "token", 7200, 0))
    with pytest.raises(Unauthorized):
        authenticate(other, issued.token, ttl)
    assert reads == {"joined": 3}
    with pytest.raises(Unauthorized):  # and on every later call (the refused copy is not kept)
        authenticate(other, issued.token, ttl)


def test_postgresql_generation_reads_are_shared_and_begin_after_their_callers_ask(
    pg_services: tuple[Service, Service, dict[str, int]],
) -> None:
    """Callers that ask while a read is in flight wait for the next one: the one in flight may
    have read the row before a write their caller already heard about."""
    one, other, _ = pg_services
    database = other.store.database_generation
    assert isinstance(database, PgGeneration)
    real_read = database._read
    has_read, release = threading.Event(), threading.Event()
    reads = []

    def held_read() -> int:
        value = real_read()
        reads.append(value)
        if len(reads) == 1:
            has_read.set()
            release.wait(60)
        return value

    database._read = held_read  # type: ignore[method-assign]

    async def scenario() -> tuple[int, int, list[int]]:
        first = asyncio.ensure_future(database.now())
        await asyncio.to_thread(has_read.wait, 60)  # the first read has its value, not yet delivered
        await asyncio.to_thread(new_app_of, one)  # a write the next caller heard about
        later = [asyncio.ensure_future(database.now()) for _ in range(20)]
        await asyncio.sleep(0)
        release.set()
        return await first, (await asyncio.gather(*later))[0], [await f for f in later]

    first, second, all_later = _run(scenario())
    assert first == reads[0]
    assert second != first and set(all_later) == {second}  # each saw the write it heard about
    assert len(reads) == 2  # 21 callers, two reads


def new_app_of(service: Service) -> None:
    service.store.write(lambda tx: tx.insert_app("wechat", "another", "h", "s", "{}", 1.0))
