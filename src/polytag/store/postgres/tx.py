"""The PostgreSQL write connection: BEGIN with the group's advisory locks, savepoints riding
with each op's first statement, and the group's own writes pipelined with the COMMIT."""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import psycopg

from polytag.errors import Unavailable
from polytag.store.base import Tx
from polytag.store.postgres.connection import TRANSIENT, connect
from polytag.store.postgres.generation import BUMP
from polytag.store.postgres.rows import PgRows, _params, pg_sql
from polytag.store.rows.apps import APP_HEAD
from polytag.store.writer import EVERY_APP, Locks, covers

log = logging.getLogger("polytag.store")
_APP_HEAD = pg_sql(APP_HEAD)
_LOCK_TIMEOUT = "30s"  # how long a writer waits for another process's group before "busy"


def app_lock(schema: str, app_id: int) -> tuple[int, int]:
    """The advisory key (two int4, a key space apart from `lock_key`'s bigint ones) of one app's writes."""
    high = zlib.crc32(schema.encode())
    low = app_id & 0xFFFF_FFFF  # an id past 2**32 shares a key with another: slower, never wrong
    return (high - (1 << 32) if high >= 1 << 31 else high), (low - (1 << 32) if low >= 1 << 31 else low)


def lock_key(schema: str, purpose: str) -> int:
    """A stable signed 64-bit advisory-lock key per (schema, purpose)."""
    high = zlib.crc32(f"polytag:{purpose}".encode())
    low = zlib.crc32(schema.encode())
    key = (high << 32) | low
    return key - (1 << 64) if key >= 1 << 63 else key



class _Queued:
    """What `_exec` answers for a group write queued until COMMIT: no rows, rowcount unknown."""

    rowcount = -1

    def fetchone(self) -> None:
        raise AssertionError("a queued group write has no rows")

    fetchall = fetchone


_QUEUED = _Queued()
_MISSING = object()


class PgTx(PgRows, Tx):
    """The group's rows. An op's first statement opens its savepoint, in one pipeline with it.

    Unlike SQLite, a failed SELECT aborts a PostgreSQL transaction too, so any statement opens
    the savepoint (it costs no extra round trip), and the RELEASE owed by the op before rides
    along as well (COMMIT releases the last one). The group's own writes (`group_writes`: the
    `before_commit` hooks) are queued and sent with the COMMIT, in one pipeline; a read among
    them sends what is queued first. The head of a locked app is read with BEGIN (off the
    event loop) and kept until this transaction writes again or rolls back to a savepoint,
    then read once more: no other writer can move it while the lock is held.
    """

    def __init__(self, conn: psycopg.Connection[Any], backend: _PgTxBackend) -> None:
        super().__init__(conn)
        self.backend = backend
        self.savepoint_open = False
        self.group_writes = False
        self.heads = backend.heads
        self.group: dict[Any, Any] = {}
        self.before_commit: list[Callable[[], None]] = []
        self.after_group: list[Callable[[], None]] = []
        self.after_commit: list[Callable[[], None]] = []
        self.on_abort: list[Callable[[], None]] = []

    def _prefix(self) -> list[str]:
        out = ["RELEASE op"] if self.backend.owes_release else []
        self.backend.owes_release = False
        if not self.savepoint_open:
            out.append("SAVEPOINT op")
            self.savepoint_open = True
        return out

    def app_head(self, app_id: int) -> Any:
        if not self.backend.holds(app_id):
            return super().app_head(app_id)
        head = self.heads.get(app_id, _MISSING)
        if head is _MISSING:
            head = self.heads[app_id] = super().app_head(app_id)
        return head

    def _exec(self, sql: str, params: Sequence[Any] = ()) -> Any:
        reads = sql.lstrip()[:6].upper() == "SELECT"
        if not reads:
            self.heads.clear()
            if self.group_writes and "RETURNING" not in sql.upper():  # a result nobody reads
                self.backend.queued.append((pg_sql(sql), [_params(params)], False))
                return _QUEUED
        prefix = self._prefix()
        queued = self.backend.take_queued()
        if not prefix and not queued:
            return super()._exec(sql, params)
        try:
            with self.conn.pipeline():
                for stmt in prefix:
                    self.conn.execute(stmt)
                _send(self.conn, queued)
                cur = self.conn.execute(pg_sql(sql), _params(params))
            return cur
        except TRANSIENT as exc:
            raise Unavailable(f"database unavailable: {exc}") from exc

    def _executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.heads.clear()
        batch = [_params(r) for r in rows]
        if self.group_writes:
            self.backend.queued.append((pg_sql(sql), batch, True))
            return
        prefix = self._prefix()
        try:
            with self.conn.pipeline():
                for stmt in prefix:
                    self.conn.execute(stmt)
                with self.conn.cursor() as cur:
                    cur.executemany(pg_sql(sql), batch)
        except TRANSIENT as exc:
            raise Unavailable(f"database unavailable: {exc}") from exc


Queued = list[tuple[str, list[Sequence[Any]], bool]]  # (sql, parameter rows, executemany)


def _send(conn: psycopg.Connection[Any], queued: Queued) -> None:
    """Queued group writes, inside the caller's pipeline."""
    for sql, batch, many in queued:
        if many:
            with conn.cursor() as cur:
                cur.executemany(sql, batch)
        else:
            conn.execute(sql, batch[0])


class _PgTxBackend:
    """The writer's connection. A broken connection fails its group and is replaced at the next BEGIN."""

    def __init__(self, conninfo: str, schema: str) -> None:
        self.conninfo, self.schema = conninfo, schema
        self.lock = lock_key(schema, "write")
        self.conn: psycopg.Connection[Any] | None = None
        self.owes_release = False  # the last op's savepoint, released with the next statement
        self.locks: Locks = EVERY_APP  # what the open group holds
        self.queued: Queued = []  # group writes waiting for the COMMIT's pipeline
        self.heads: dict[int, Any] = {}  # app_head of locked apps, read at BEGIN or since this group last wrote

    def _connection(self) -> psycopg.Connection[Any]:
        if self.conn is None or self.conn.closed or self.conn.broken:
            if self.conn is not None:
                self.conn.close()
            self.conn = connect(self.conninfo, self.schema)
            self.conn.execute(f"SET lock_timeout = '{_LOCK_TIMEOUT}'")
        return self.conn

    def holds(self, app_id: int) -> bool:
        return covers(self.locks, app_id)

    def take_queued(self) -> Queued:
        queued, self.queued = self.queued, []
        return queued

    def begin(self, locks: Locks = EVERY_APP) -> PgTx:
        """BEGIN and the group's locks, in one round trip: the write key exclusively (`EVERY_APP`),
        or shared and then each app's key in ascending order."""
        self.owes_release = False
        self.queued = []
        self.heads.clear()
        self.locks = locks
        # Nothing has run yet, so a lost connection is safe to retry once on a new one.
        for attempt in (1, 2):
            conn = self._connection()
            try:
                heads: list[tuple[int, psycopg.Cursor[Any]]] = []
                with conn.pipeline():
                    conn.execute("BEGIN")
                    if locks is None:  # EVERY_APP
                        conn.execute("SELECT pg_advisory_xact_lock(%s)", (self.lock,))
                    else:
                        conn.execute("SELECT pg_advisory_xact_lock_shared(%s)", (self.lock,))
                        for app_id in sorted(locks):
                            conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", app_lock(self.schema, app_id))
                        # each app's head, read under its lock, off the event loop: ops need it first
                        heads = [(app_id, conn.execute(_APP_HEAD, (app_id,))) for app_id in locks]
                for app_id, cur in heads:
                    row = cur.fetchone()
                    self.heads[app_id] = None if row is None else tuple(row)
                return PgTx(conn, self)
            except TRANSIENT:
                self.rollback()
                if attempt == 2 or not (conn.closed or conn.broken):
                    raise
        raise AssertionError("unreachable")

    def _quiet(self, sql: str) -> None:
        """Savepoint bookkeeping must not kill the writer thread: a dead connection fails the COMMIT."""
        conn = self.conn
        if conn is None or conn.closed or conn.broken:
            return
        try:
            conn.execute(sql)
        except TRANSIENT:
            log.warning("write connection failed during %s", sql)

    def bump_generation(self) -> None:
        """The group may have changed an app or a token: move the database's generation in this
        transaction, sent with the COMMIT (see polytag.store.postgres.generation). The row's lock
        is held from this UPDATE to the COMMIT in the same pipeline, so such groups of different
        apps wait for each other only that long."""
        self.queued.append((BUMP, [()], False))

    def savepoint(self) -> None:
        """Opened lazily by `PgTx` with the op's first statement."""

    def release(self) -> None:
        self.owes_release = True

    def rollback_to(self) -> None:
        self.heads.clear()
        self._quiet("ROLLBACK TO op")
        self.owes_release = True

    def commit(self) -> None:
        """The queued group writes and COMMIT, in one pipeline (COMMIT releases every savepoint)."""
        self.owes_release = False
        queued = self.take_queued()
        conn = self.conn
        if conn is None or conn.closed or conn.broken:
            raise Unavailable("write connection lost before COMMIT")
        if not queued:
            conn.execute("COMMIT")
            return
        with conn.pipeline():
            _send(conn, queued)
            conn.execute("COMMIT")

    def rollback(self) -> None:
        self.owes_release = False
        self.queued = []
        self.heads.clear()
        conn = self.conn
        if conn is None or conn.closed or conn.broken:
            return
        try:
            conn.execute("ROLLBACK")
        except TRANSIENT:
            conn.close()

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()

