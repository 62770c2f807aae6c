"""Tokens and apps are served from per-process caches on SQLite, never staler than a read.

A hit costs no query; any write to an app or a token, through any Service on the database
(standing for another process), makes the next call read again. tests/test_multiprocess.py
keeps the revoked-token and changed-limits cases across two Services.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from polytag import dialects, seed
from polytag.core.service import Service
from polytag.store import open_store

APP = {"dialect": "wechat", "appid": "wx00000000000fresh1", "secret": "fresh-secret", "followers": ["f1"]}


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
