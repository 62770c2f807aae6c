"""PostgreSQL backend: psycopg 3, a pool of autocommit readers, one writer connection per process.

Write groups are serialized per app across processes by transaction-level advisory locks
taken in the BEGIN's round trip, as SQLite's BEGIN IMMEDIATE serializes them across
connections: the membership log's per-app sequence and every uniqueness and limit check rely
on it. A group of ops that each name their app takes the schema's write key in shared mode,
then one key per app in ascending order (no two groups can wait for each other in a cycle);
a group holding an op that may span apps (app create/delete, seeds, snapshot loads) takes
the write key exclusively, so it runs alone, as every group did before. Groups of different
apps thus commit in parallel, groups of one app one after another.

Round trips: BEGIN and the locks go in one pipeline; an op's savepoint rides with its first
statement; the group's own writes (log rows, the app's head, tag versions) are queued and
sent in one pipeline with the RELEASE owed and the COMMIT; inside a group, the app's head
is read once until the group writes again.

`postgresql://USER@HOST:PORT/DB?schema=NAME` keeps polytag's tables in schema NAME (created
on first start), so several deployments or test runs can share one database. libpq's multi-host
form, `postgresql://H1:P1,H2:P2/DB?target_session_attrs=read-write`, names a primary and its
standbys: every connection goes to whichever accepts writes (read-write is the default when
several hosts are named), so after a failover new connections find the promoted standby.
Database errors become `Unavailable` (the dialects' "system busy"); reads are retried once
on a fresh connection, and a group whose connection broke fails as a whole, never in part.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg_pool import ConnectionPool

from polytag.errors import Unavailable
from polytag.store import migrations
from polytag.store.base import Tx
from polytag.store.rows import Rows
from polytag.store.writer import EVERY_APP, Locks, WriterHost, covers

T = TypeVar("T")
log = logging.getLogger("polytag.store")

_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_LOCK_TIMEOUT = "30s"  # how long a writer waits for another process's group before "busy"
# Errors that mean "the server or the connection is in trouble", never "your SQL is wrong".
TRANSIENT = (psycopg.OperationalError, psycopg.InterfaceError)
_sql_cache: dict[str, str] = {}


def pg_sql(sql: str) -> str:
    """Portable `?` placeholders → psycopg's `%s` (our SQL holds no literal `?` or `%`)."""
    out = _sql_cache.get(sql)
    if out is None:
        assert "%" not in sql, f"literal % in portable SQL: {sql!r}"
        out = _sql_cache[sql] = sql.replace("?", "%s")
    return out


def _param(p: Any) -> Any:
    if isinstance(p, bool):  # SQLite stores booleans as 0/1; PostgreSQL will not cast them
        return int(p)
    if isinstance(p, str) and "\x00" in p:
        # PostgreSQL text cannot hold NUL. Map it the same way on every write and lookup, so an
        # id with NUL is simply an id that is not there (as on SQLite), not a database error.
        return p.replace("\x00", "\ufffd")
    return p


def _params(params: Sequence[Any]) -> Sequence[Any]:
    return [_param(p) for p in params]


def parse_url(url: str) -> tuple[str, str]:
    """(libpq conninfo URL without `schema=`, schema name)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = "public"
    kept = []
    for key, value in query:
        if key == "schema":
            schema = value
        else:
            kept.append((key, value))
    if not _SCHEMA_NAME.match(schema):
        raise ValueError(f"invalid schema name {schema!r} in database URL")
    if "," in parts.netloc and not any(key == "target_session_attrs" for key, _ in kept):
        # several hosts (a primary and its standbys): only the one that takes writes will do,
        # for reads too (the index catches up to the head it reads, which a standby may lag)
        kept.append(("target_session_attrs", "read-write"))
    scheme = "postgresql"
    return urlunsplit((scheme, parts.netloc, parts.path, urlencode(kept), "")), schema


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


class PgRows(Rows):
    """Rows over one psycopg connection."""

    DIFFERS = "IS DISTINCT FROM"  # PostgreSQL has no `IS NOT <value>`

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def _exec(self, sql: str, params: Sequence[Any] = ()) -> Any:
        try:
            return self.conn.execute(pg_sql(sql), _params(params))
        except TRANSIENT as exc:
            raise Unavailable(f"database unavailable: {exc}") from exc

    def _executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        try:
            with self.conn.cursor() as cur:
                cur.executemany(pg_sql(sql), [_params(r) for r in rows])
        except TRANSIENT as exc:
            raise Unavailable(f"database unavailable: {exc}") from exc


class PgReadRows(PgRows):
    """Autocommit reads on the calling thread's pooled connection; a broken one is replaced once."""

    def __init__(self, store: PostgresStore) -> None:
        self.store = store
        super().__init__(store._pool.getconn())

    in_snapshot = False
    pooled = True  # False once replaced by a connection of its own (see PostgresStore._replace)

    def _retry(self, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except Unavailable as first:
            if self.in_snapshot or (not self.conn.closed and not self.conn.broken):
                raise  # inside a snapshot a new connection would be another snapshot; or the server said no
            log.warning("read connection lost, reconnecting: %s", first)
            self.store._replace(self)
            return call()

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads inside see one committed state (REPEATABLE READ, READ ONLY); nested: as is."""
        if self.in_snapshot:
            yield
            return
        self._retry(lambda: PgRows._exec(self, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"))
        self.in_snapshot = True
        try:
            yield
        finally:
            self.in_snapshot = False
            with contextlib.suppress(*TRANSIENT):
                self.conn.execute("COMMIT")

    def _exec(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._retry(lambda: PgRows._exec(self, sql, params))

    def _executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = list(rows)
        self._retry(lambda: PgRows._executemany(self, sql, rows))


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
    them sends what is queued first. The head of a locked app is read once and kept until
    this transaction writes again or rolls back to a savepoint: no other writer can move it
    while the lock is held.
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
        self.heads: dict[int, Any] = {}  # app_head of locked apps, read since this group last wrote

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
                with conn.pipeline():
                    conn.execute("BEGIN")
                    if locks is None:  # EVERY_APP
                        conn.execute("SELECT pg_advisory_xact_lock(%s)", (self.lock,))
                    else:
                        conn.execute("SELECT pg_advisory_xact_lock_shared(%s)", (self.lock,))
                        for app_id in sorted(locks):
                            conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", app_lock(self.schema, app_id))
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


_CONNECT_TIMEOUT = 10  # seconds per host, unless the URL says `connect_timeout=`


def connect(conninfo: str, schema: str, **kwargs: Any) -> psycopg.Connection[Any]:
    """A connection whose search_path is polytag's schema (autocommit: we issue BEGIN ourselves).

    The URL's `connect_timeout` wins over our default: with several hosts, a dead one that
    drops packets costs that long per attempt, and a failover's gap pays it on every attempt."""
    if "connect_timeout" not in psycopg.conninfo.conninfo_to_dict(conninfo):
        kwargs.setdefault("connect_timeout", _CONNECT_TIMEOUT)
    try:
        return psycopg.connect(conninfo, autocommit=True, options=f"-c search_path={schema}", **kwargs)
    except TRANSIENT as exc:
        raise Unavailable(f"cannot connect to the database: {exc}") from exc


class PostgresStore(WriterHost):
    backend = "postgresql"

    def __init__(self, url: str, pool_size: int = 16) -> None:
        self.url = url
        self.conninfo, self.schema = parse_url(url)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._readers: list[PgReadRows] = []
        self.migrate()
        self._pool: ConnectionPool[Any] = ConnectionPool(
            self.conninfo, min_size=1, max_size=pool_size, open=True, name=f"polytag-{self.schema}",
            kwargs={"autocommit": True, "options": f"-c search_path={self.schema}"},
            timeout=30.0,
        )
        self._start_writer()

    def migrate(self) -> list[int]:
        """Create the schema and apply pending migrations, under a session advisory lock.

        Two processes starting at once: the second waits for the first, then finds nothing to do."""
        applied: list[int] = []
        with contextlib.closing(connect(self.conninfo, self.schema)) as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (lock_key(self.schema, "migrate"),))
            try:
                with conn.transaction():
                    conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
                    conn.execute(
                        "CREATE TABLE IF NOT EXISTS schema_version"
                        " (version INTEGER PRIMARY KEY, name TEXT, applied_at DOUBLE PRECISION)"
                    )
                    row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
                    current = int(row[0]) if row else 0
                    for m in migrations.load(self.backend):
                        if m.version > current:
                            for stmt in m.statements:
                                conn.execute(stmt)  # no parameters: no placeholder parsing
                            conn.execute("INSERT INTO schema_version VALUES (%s, %s, %s)",
                                         (m.version, m.name, time.time()))
                            applied.append(m.version)
            finally:
                if not conn.broken:
                    conn.execute("SELECT pg_advisory_unlock(%s)", (lock_key(self.schema, "migrate"),))
        return applied

    def read(self) -> PgReadRows:
        rows: PgReadRows | None = getattr(self._local, "rows", None)
        if rows is None:
            try:
                rows = PgReadRows(self)
            except psycopg.Error as exc:  # pool timeout or no server
                raise Unavailable(f"database unavailable: {exc}") from exc
            with self._lock:
                self._readers.append(rows)
            self._local.rows = rows
        return rows

    def _replace(self, rows: PgReadRows) -> None:
        """Drop a broken read connection and connect afresh, to whichever host accepts writes now.

        Not through the pool: after a failed attempt (a primary that died, a standby not yet
        promoted) its workers back off for seconds, and its `getconn` would hold the caller,
        often the event loop, that long. A direct attempt fails at once ("busy", retry) or
        reaches the new primary as soon as there is one."""
        if rows.pooled:
            rows.pooled = False
            with contextlib.suppress(psycopg.Error, ValueError):
                self._pool.putconn(rows.conn)  # the pool discards a broken connection
        rows.conn.close()
        rows.conn = connect(self.conninfo, self.schema)

    def _tx_backend(self) -> _PgTxBackend:
        return _PgTxBackend(self.conninfo, self.schema)

    def close(self) -> None:
        self._writer.close()
        with self._lock:
            for rows in self._readers:
                with contextlib.suppress(psycopg.Error):
                    if rows.pooled:
                        self._pool.putconn(rows.conn)
                    else:
                        rows.conn.close()
            self._readers.clear()
        self._pool.close()


@contextlib.contextmanager
def admin_connection(url: str) -> Iterator[psycopg.Connection[Any]]:
    """An autocommit connection to the URL's database (for tools and tests: create/drop schemas)."""
    conninfo, schema = parse_url(url)
    with contextlib.closing(connect(conninfo, schema)) as conn:
        yield conn


def drop_schema(url: str) -> None:
    """Drop the URL's schema and everything in it (tests, `reset`)."""
    _, schema = parse_url(url)
    if schema == "public":
        raise ValueError("refusing to drop the public schema")
    with admin_connection(url) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
