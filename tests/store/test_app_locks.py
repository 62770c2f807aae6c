"""Write groups lock their apps: which locks a group takes, who joins it, and (PostgreSQL) that
groups of different apps commit side by side while groups of one app, and any op that names
no app, still wait for each other."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any

import pytest

from polytag.store import Tx, open_store
from polytag.store.writer import EVERY_APP, Locks, LoopWriter, covers, locks_of
from tests.conftest import pg_dsn

WAIT = 30  # seconds: a bound on waiting, never an assertion on speed


def test_a_group_locks_its_apps_ascending_or_every_app() -> None:
    def item(app: int | None) -> Any:
        return (lambda tx: None, None, False, app)

    assert locks_of([item(5), item(2), item(5)]) == (2, 5)
    assert locks_of([item(5), item(None)]) is EVERY_APP
    assert covers((2, 5), 5) and not covers((2, 5), 3) and not covers((2, 5), None)
    assert covers(EVERY_APP, None) and covers(EVERY_APP, 7)


class _Tx:
    def __init__(self) -> None:
        self.group: dict[Any, Any] = {}
        self.savepoint_open = False
        self.before_commit: list[Any] = []
        self.after_group: list[Any] = []
        self.after_commit: list[Any] = []
        self.on_abort: list[Any] = []


class _Backend:
    """Records each BEGIN's locks; the first BEGIN waits until `gate` is set."""

    def __init__(self) -> None:
        self.begins: list[Locks] = []
        self.gate = threading.Event()

    def begin(self, locks: Locks = EVERY_APP) -> _Tx:
        self.begins.append(locks)
        if len(self.begins) == 1:
            assert self.gate.wait(WAIT)
        return _Tx()

    def savepoint(self) -> None: ...
    def release(self) -> None: ...
    def rollback_to(self) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def close(self) -> None: ...



@pytest.mark.parametrize("one_writer", [False, True])
def test_ops_queued_while_begin_waits_join_only_if_their_app_is_locked(one_writer: bool) -> None:
    backend = _Backend()
    backend.one_writer = one_writer  # type: ignore[attr-defined]  # SQLite's: every app, always
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    ran: list[tuple[str, Locks]] = []
    try:
        made: Future[LoopWriter] = Future()
        loop.call_soon_threadsafe(lambda: made.set_result(LoopWriter(backend, loop)))  # type: ignore[arg-type]
        writer = made.result(WAIT)

        def op(name: str) -> Any:
            return lambda tx: ran.append((name, backend.begins[-1]))

        first = writer.submit(op("a1"), app=1)
        deadline = time.monotonic() + WAIT
        while not backend.begins and time.monotonic() < deadline:  # BEGIN for app 1 is waiting
            time.sleep(0.01)
        later = [writer.submit(op("b"), app=2), writer.submit(op("a2"), app=1), writer.submit(op("any"))]
        time.sleep(0.05)  # let the loop queue them while the BEGIN still waits
        backend.gate.set()
        for f in [first, *later]:
            f.result(WAIT)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(WAIT)
        loop.close()
    if one_writer:  # one group: its BEGIN locked every app anyway
        assert backend.begins == [EVERY_APP]
        assert [name for name, _ in ran] == ["a1", "b", "a2", "any"]
        return
    # the first group took app 1 only; a2 joined it, b and the app-less op waited for the next
    assert backend.begins == [(1,), EVERY_APP]
    assert ran == [("a1", (1,)), ("a2", (1,)), ("b", EVERY_APP), ("any", EVERY_APP)]


# PostgreSQL: two processes' writers, side by side ----------------------------------------------
@pytest.fixture
def pg_url() -> Iterator[str]:
    pytest.importorskip("psycopg")
    from polytag.store import postgres

    dsn = pg_dsn()
    url = f"{dsn}{'&' if '?' in dsn else '?'}schema=pt_{uuid.uuid4().hex[:16]}"
    yield url
    postgres.drop_schema(url)


def test_groups_of_different_apps_commit_side_by_side_on_postgresql(pg_url: str) -> None:
    one, two = open_store(pg_url), open_store(pg_url)  # two replicas' writers
    try:
        a = one.write(lambda tx: tx.insert_app("wechat", "a", "h", "s", "{}", 1.0))
        b = one.write(lambda tx: tx.insert_app("wechat", "b", "h", "s", "{}", 1.0))
        inside, gate = threading.Event(), threading.Event()

        def hold(tx: Tx) -> int:  # a group of app a that stays open until the gate opens
            value = int(tx.bump_counter(a, "next_tag", 1))
            inside.set()
            assert gate.wait(WAIT)
            return value

        held = one.submit(hold, app=a)
        assert inside.wait(WAIT)
        # app b: commits while app a's group is open (one lock per database made it wait)
        assert two.submit(lambda tx: tx.bump_counter(b, "next_tag", 1), app=b).result(WAIT) == 0
        # app a again, and an op that names no app (it may touch every app): both wait
        same = two.submit(lambda tx: tx.bump_counter(a, "next_tag", 1), app=a)
        spanning = two.submit(lambda tx: tx.insert_app("wechat", "c", "h", "s", "{}", 1.0))
        time.sleep(0.5)
        assert not same.done() and not spanning.done()
        gate.set()
        assert held.result(WAIT) == 0
        assert same.result(WAIT) == 1  # it saw the held group's write: serialized, not lost
        spanning.result(WAIT)
        assert one.read().app_head(a)[2] == 2 and one.read().app_head(b)[2] == 1
    finally:
        gate.set()
        one.close()
        two.close()


def test_an_op_naming_no_app_runs_alone_on_postgresql(pg_url: str) -> None:
    one, two = open_store(pg_url), open_store(pg_url)
    try:
        a = one.write(lambda tx: tx.insert_app("wechat", "a", "h", "s", "{}", 1.0))
        inside, gate = threading.Event(), threading.Event()

        def hold(tx: Tx) -> None:  # names no app: the write key, exclusively
            tx.bump_counter(a, "next_group", 1)
            inside.set()
            assert gate.wait(WAIT)

        held = one.submit(hold)
        assert inside.wait(WAIT)
        waiting = two.submit(lambda tx: tx.bump_counter(a, "next_group", 1), app=a)
        time.sleep(0.5)
        assert not waiting.done()
        gate.set()
        held.result(WAIT)
        assert waiting.result(WAIT) == 1
    finally:
        gate.set()
        one.close()
        two.close()
