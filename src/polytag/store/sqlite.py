"""SQLite backend: stdlib sqlite3 in WAL mode, one writer thread, one reader connection per thread.

`synchronous=FULL` by default: an acknowledged write is on disk, not only in the OS cache.
Group commit keeps that affordable (one fsync per group, not per request).
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlparse

from polytag.store import migrations
from polytag.store.base import Tx
from polytag.store.generation import SharedGeneration
from polytag.store.readers import ThreadReaders
from polytag.store.rows import Rows
from polytag.store.writer import EVERY_APP, Locks, WriterHost

T = TypeVar("T")
log = logging.getLogger("polytag.store")
BUSY_TIMEOUT_MS = 30_000  # how long a write waits for another process's write lock


def _connect(path: str, synchronous: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30.0)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA cache_size=-131072")
    conn.execute("PRAGMA foreign_keys=OFF")
    return conn


class SQLiteRows(Rows):
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        if self.conn.in_transaction:
            yield
            return
        self.conn.execute("BEGIN")  # deferred: WAL readers see one snapshot until COMMIT
        try:
            yield
        finally:
            self.conn.execute("COMMIT")

    def _exec(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.conn.execute(sql, params)

    def _executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.conn.executemany(sql, rows)


class SQLiteTx(SQLiteRows, Tx):
    """Rows inside a write group; the first write of an op opens the op's savepoint."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        super().__init__(conn)
        self.savepoint_open = False
        self.group: dict[Any, Any] = {}
        self.before_commit: list[Callable[[], None]] = []
        self.after_group: list[Callable[[], None]] = []
        self.after_commit: list[Callable[[], None]] = []
        self.on_abort: list[Callable[[], None]] = []

    def _exec(self, sql: str, params: Sequence[Any] = ()) -> Any:
        if not self.savepoint_open and not sql.startswith("SELECT"):
            self.conn.execute("SAVEPOINT op")
            self.savepoint_open = True
        return self.conn.execute(sql, params)

    def _executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        if not self.savepoint_open:
            self.conn.execute("SAVEPOINT op")
            self.savepoint_open = True
        self.conn.executemany(sql, rows)


class _SQLiteTxBackend:
    one_writer = True  # BEGIN IMMEDIATE takes the file's one write lock: every app, always
    def __init__(self, path: str, synchronous: str) -> None:
        self.conn = _connect(path, synchronous)

    def begin(self, locks: Locks = EVERY_APP) -> SQLiteTx:
        """One writer per file: BEGIN IMMEDIATE locks every app whatever `locks` names."""
        self.conn.execute("BEGIN IMMEDIATE")
        return SQLiteTx(self.conn)

    def try_begin(self, locks: Locks = EVERY_APP) -> SQLiteTx | None:
        """BEGIN IMMEDIATE if the write lock is free now, else None (no waiting): a server's
        event loop takes it inline and waits for a held lock in a worker thread."""
        self.conn.execute("PRAGMA busy_timeout=0")
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:  # busy (another process writes), or worse: `begin` tells
            return None
        finally:
            self.conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        return SQLiteTx(self.conn)

    def savepoint(self) -> None:  # opened lazily by SQLiteTx._exec
        self.conn.execute("SAVEPOINT op")

    def release(self) -> None:
        self.conn.execute("RELEASE op")

    def rollback_to(self) -> None:
        self.conn.execute("ROLLBACK TO op")
        self.conn.execute("RELEASE op")

    def commit(self) -> None:
        self.conn.execute("COMMIT")

    def rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def close(self) -> None:
        self.conn.close()


def sqlite_path(url: str) -> tuple[str, dict[str, str]]:
    """`sqlite:///rel.db`, `sqlite:////abs.db`, `sqlite://:memory:` → (path, options)."""
    parsed = urlparse(url)
    opts = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
    path = (parsed.netloc + parsed.path) if parsed.netloc else parsed.path[1:]
    return path or ":memory:", opts


class SQLiteStore(WriterHost):
    backend = "sqlite"

    def __init__(self, url: str) -> None:
        self.url = url
        path, opts = sqlite_path(url)
        if path == ":memory:":
            raise ValueError("an in-memory SQLite database cannot be shared; use a file path")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.synchronous = opts.get("synchronous", "FULL").upper()
        # one reader per live thread, closed once its thread has ended (polytag.store.readers)
        self._readers: ThreadReaders[SQLiteRows] = ThreadReaders(
            lambda: SQLiteRows(_connect(self.path, self.synchronous)), lambda rows: rows.conn.close())
        self.migrate()
        self._shared = SharedGeneration(f"{path}-polytag")
        self._shared.bump()  # a process starting (after a crash, say): every cache reads anew
        self.generation = self._shared
        self._start_writer()

    def migrate(self) -> list[int]:
        """Apply pending migrations; safe when two processes start at once (BEGIN IMMEDIATE)."""
        conn = _connect(self.path, self.synchronous)
        applied: list[int] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT, applied_at REAL)"
            )
            current = conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0]
            for m in migrations.load("sqlite"):
                if m.version > current:
                    for stmt in m.statements:
                        conn.execute(stmt)
                    conn.execute(
                        "INSERT INTO schema_version VALUES (?, ?, ?)", (m.version, m.name, time.time())
                    )
                    applied.append(m.version)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        finally:
            conn.close()
        return applied

    def read(self) -> SQLiteRows:
        return self._readers.get()

    def _tx_backend(self) -> _SQLiteTxBackend:
        return _SQLiteTxBackend(self.path, self.synchronous)

    def close(self) -> None:
        self._writer.close()
        self._shared.close()
        self._readers.close()
