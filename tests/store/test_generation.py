"""The shared generation: what makes per-process caches of apps and tokens exactly fresh.

Every write group that may change an app or a token moves it before its caller hears back;
a `pure` group (memberships only) leaves it alone. On SQLite every process (here: every store
opened on the file) sees the same counter; PostgreSQL keeps it in a row of the database
(tests/core/test_fresh_caches.py: the token copies it keeps exact).
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from polytag.store import Store, Tx, open_store
from polytag.store.generation import SharedGeneration
from polytag.store.sqlite import sqlite_path
from tests.store.conftest import WAIT, new_app

LOOP_TURNS_WITHIN = 10.0  # seconds for 20 turns of 1 ms: only a loop stuck on the lock misses it


def test_a_group_moves_the_generation_unless_every_op_is_pure(writer_store: Store) -> None:
    gen = writer_store.generation
    if writer_store.backend == "postgresql":
        assert gen is None  # replicas may run on other hosts: nothing to share in memory
        _database_generation_moves_unless_every_op_is_pure(writer_store)
        return
    assert gen is not None
    before = gen.value
    writer_store.submit(lambda tx: None, pure=True).result(WAIT)
    assert gen.value == before
    app_id = new_app(writer_store)  # an impure op: an app row
    after_app = gen.value
    assert after_app > before
    writer_store.submit(lambda tx: tx.set_counter(app_id, "mseq", 1), pure=True).result(WAIT)
    assert gen.value == after_app

    def fails(tx: Tx) -> None:
        raise ValueError("refused")

    with pytest.raises(ValueError):  # a failed op may have written before it failed: move anyway
        writer_store.submit(fails).result(WAIT)
    assert gen.value > after_app


def _database_generation_moves_unless_every_op_is_pure(store: Store) -> None:
    """PostgreSQL keeps it in a row, moved in the transaction of the group that may have changed
    an app or a token; every value is a new one (a transaction id)."""

    def value() -> int:
        return int(store.read()._scalar("SELECT value FROM generation"))

    seen = [value()]
    store.submit(lambda tx: None, pure=True).result(WAIT)
    assert value() == seen[-1]
    app_id = new_app(store)
    assert value() not in seen
    seen.append(value())
    store.submit(lambda tx: tx.set_counter(app_id, "mseq", 1), pure=True).result(WAIT)
    assert value() == seen[-1]

    def fails(tx: Tx) -> None:
        raise ValueError("refused")

    with pytest.raises(ValueError):
        store.submit(fails).result(WAIT)
    assert value() not in seen


def test_every_store_on_one_sqlite_file_shares_the_counter(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    one = open_store(url)
    try:
        assert one.generation is not None
        seen = one.generation.value
        other = open_store(url)  # a process starting (after a crash, say) moves it: all read anew
        assert other.generation is not None
        assert one.generation.value > seen
        seen = other.generation.value
        new_app(one)
        assert other.generation.value > seen  # another process learns at once
        other.close()
    finally:
        one.close()


def test_an_impure_group_moves_the_generation_before_its_commit(writer_store: Store) -> None:
    """So that a process dying between COMMIT and the second bump leaves no cache that read the
    rows before COMMIT: the op itself sees the value it ran under; after COMMIT it moved twice."""
    gen = writer_store.generation
    if writer_store.backend == "postgresql":
        assert gen is None  # nothing shared, nothing cached
        return
    assert gen is not None
    seen: list[int] = []
    before = gen.value
    writer_store.submit(lambda tx: seen.append(gen.value)).result(WAIT)
    assert seen == [before]
    assert gen.value == before + 2


def test_concurrent_bumps_are_never_lost(tmp_path: Path) -> None:
    """Bumps from many openers of the file (threads here, processes in production) all count."""
    path = str(tmp_path / "counter")
    gens = [SharedGeneration(path) for _ in range(4)]
    try:
        start = threading.Barrier(len(gens))

        def bump(g: SharedGeneration) -> None:
            start.wait(WAIT)
            for _ in range(500):
                g.bump()

        threads = [threading.Thread(target=bump, args=(g,)) for g in gens]
        for t in threads:
            t.start()
        for t in threads:
            t.join(WAIT)
        assert {g.value for g in gens} == {2000}
        assert SharedGeneration(path).value == 2000  # a late opener reads it, and keeps it
    finally:
        for g in gens:
            g.close()


def test_a_held_write_lock_does_not_block_the_loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A server BEGINs inline when the write lock is free; when another process holds it, the
    group waits for it in a worker thread, and the loop goes on meanwhile. The other side lets
    go only once the loop has turned 20 times while the write waited: a loop blocked on the
    lock would never turn, and the write would fail when the lock wait times out."""
    import asyncio

    url = f"sqlite:///{tmp_path / 'locked.db'}"
    store = open_store(url)
    path, _ = sqlite_path(url)
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another process writing
    turned = threading.Event()
    saw_turns: list[bool] = []

    def holder() -> None:
        saw_turns.append(turned.wait(LOOP_TURNS_WITHIN))
        other.execute("COMMIT")

    async def main() -> tuple[int, int]:
        store.attach_loop(asyncio.get_running_loop())
        pending = asyncio.ensure_future(asyncio.wrap_future(
            store.submit(lambda tx: tx.insert_app("wechat", "late", "h", "s", "{}", 1.0))))
        turns = 0
        while not pending.done() and turns < 20:
            await asyncio.sleep(0.001)
            turns += 1
        turned.set()
        app_id = await asyncio.wait_for(pending, WAIT)
        await store.detach_loop()
        return app_id, turns

    result: list[tuple[int, int]] = []
    threads = [threading.Thread(target=holder),  # a loop of its own, in a thread of its own
               threading.Thread(target=lambda: result.append(asyncio.run(main())))]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(WAIT)
        (app_id, turns), = result
        assert saw_turns == [True]  # the loop turned while the lock was held
        assert turns == 20  # the write was still waiting for the lock after 20 turns of the loop
        assert store.read().app_by_id(app_id) is not None
    finally:
        other.close()
        store.close()
