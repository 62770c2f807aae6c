"""Read connections are held per live thread: a thread that ended gives its reader back.

Worker threads of the HTTP stack come and go; before this, each one left an open connection
(and, on SQLite, a file descriptor and up to 128 MB of page cache) behind for the server's life.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from polytag.store import open_store
from polytag.store.readers import ThreadReaders


def _in_thread(fn) -> None:  # type: ignore[no-untyped-def]
    t = threading.Thread(target=fn)
    t.start()
    t.join()


def test_a_new_reader_releases_those_of_ended_threads() -> None:
    made: list[int] = []
    released: list[int] = []
    readers: ThreadReaders[int] = ThreadReaders(lambda: made.append(len(made)) or made[-1], released.append)
    for _ in range(20):
        _in_thread(readers.get)
    assert len(made) == 20
    assert released == list(range(19))  # each new reader released the one before it
    assert len(readers.held()) == 1
    mine = readers.get()
    assert readers.get() == mine  # one per thread, made once
    readers.close()
    assert sorted(released) == list(range(21)) and readers.held() == []


def test_live_threads_keep_their_readers() -> None:
    readers: ThreadReaders[object] = ThreadReaders(object, lambda r: None)
    go, done = threading.Event(), threading.Event()
    seen: list[object] = []

    def hold() -> None:
        seen.append(readers.get())
        go.set()
        done.wait(10)
        seen.append(readers.get())

    t = threading.Thread(target=hold)
    t.start()
    go.wait(10)
    for _ in range(5):
        _in_thread(readers.get)  # sweeps: the holder is alive, so its reader stays
    done.set()
    t.join()
    assert seen[0] is seen[1]


def _open_fds_on(path: Path) -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == str(path):
                count += 1
        except OSError:
            continue
    return count


def test_sqlite_does_not_keep_a_connection_per_thread_that_ever_read(tmp_path: Path) -> None:
    path = tmp_path / "polytag.db"
    store = open_store(f"sqlite:///{path}")
    try:
        for _ in range(40):
            _in_thread(lambda: store.read().apps())
        assert _open_fds_on(path) <= 3  # the writer, a migration-free reader or two; never 40
    finally:
        store.close()


def test_postgresql_threads_in_turn_do_not_exhaust_the_pool() -> None:
    """40 threads read one after another through a pool of 2: each ended thread's connection goes
    back to the pool (before, the third thread waited 30 s for a connection and got a 503)."""
    import uuid

    from polytag.store.postgres import PostgresStore, drop_schema
    from tests.conftest import pg_dsn

    dsn = pg_dsn()
    url = f"{dsn}{'&' if '?' in dsn else '?'}schema=pt_{uuid.uuid4().hex[:16]}"
    store = PostgresStore(url, pool_size=2)
    store._pool.timeout = 2.0  # a leak would show as a refusal after 2 s, not 30
    errors: list[BaseException] = []

    def read() -> None:
        try:
            store.read().apps()
        except BaseException as exc:  # noqa: BLE001  (recorded for the assertion)
            errors.append(exc)

    try:
        for _ in range(40):
            _in_thread(read)
        assert errors == []
    finally:
        store.close()
        drop_schema(url)
