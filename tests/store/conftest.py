"""Fixtures of the storage contract suites: a store per backend, and one writing through a loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import Future

import pytest

from polytag.store import Store, Tx, open_store

WAIT = 60  # seconds: a bound on waiting for the writer thread, never an assertion on speed


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = open_store(db_url)
    yield s
    s.close()


@pytest.fixture(params=["thread", "loop"])
def writer_store(request: pytest.FixtureRequest, db_url: str) -> Iterator[Store]:
    """A store whose writes go through the writer thread, or through an asyncio loop (as in a server)."""
    s = open_store(db_url)
    if request.param == "thread":
        yield s
        s.close()
        return
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="test-loop", daemon=True)
    thread.start()
    attached: Future[None] = Future()

    def attach() -> None:
        s.attach_loop(loop)  # on the loop's own thread, as a server's startup does
        attached.set_result(None)

    loop.call_soon_threadsafe(attach)
    attached.result(WAIT)
    try:
        yield s
    finally:
        asyncio.run_coroutine_threadsafe(s.detach_loop(), loop).result(WAIT)
        s.close()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(WAIT)
        loop.close()


def new_app(store: Store, name: str = "app", dialect: str = "wechat") -> int:
    return store.write(lambda tx: tx.insert_app(dialect, name, "h", "s", "{}", 1.0))


def add_subjects(store: Store, app_id: int, ext_ids: list[str]) -> int:
    def op(tx: Tx) -> int:
        first = tx.bump_counter(app_id, "next_subject", len(ext_ids))
        tx.insert_subjects(app_id, first, ext_ids, 7)
        return first

    return store.write(op)
