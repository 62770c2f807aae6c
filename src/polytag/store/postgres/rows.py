"""PostgreSQL reads: portable SQL and parameters made psycopg's, and the autocommit read rows."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import psycopg

from polytag.errors import Unavailable
from polytag.store.postgres.connection import TRANSIENT
from polytag.store.rows import Rows

if TYPE_CHECKING:
    from polytag.store.postgres.store import PostgresStore

log = logging.getLogger("polytag.store")
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

