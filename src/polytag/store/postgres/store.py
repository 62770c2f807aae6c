"""PostgresStore: migrations, a pool of read connections (one per thread), the group writer."""

from __future__ import annotations

import contextlib
import time
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from polytag.errors import Unavailable
from polytag.store import migrations
from polytag.store.postgres.connection import connect, parse_url
from polytag.store.postgres.generation import PgGeneration
from polytag.store.postgres.rows import PgReadRows
from polytag.store.postgres.tx import _PgTxBackend, lock_key
from polytag.store.readers import ThreadReaders
from polytag.store.writer import WriterHost


class PostgresStore(WriterHost):
    backend = "postgresql"

    def __init__(self, url: str, pool_size: int = 16) -> None:
        self.url = url
        self.conninfo, self.schema = parse_url(url)
        # one reader per live thread, given back once its thread has ended (polytag.store.readers)
        self._readers: ThreadReaders[PgReadRows] = ThreadReaders(self._new_reader, self._release)
        self.migrate()
        self._pool: ConnectionPool[Any] = ConnectionPool(
            self.conninfo, min_size=1, max_size=pool_size, open=True, name=f"polytag-{self.schema}",
            kwargs={"autocommit": True, "options": f"-c search_path={self.schema}"},
            timeout=30.0,
        )
        self._generation = PgGeneration(self)
        self.database_generation = self._generation
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
        return self._readers.get()

    def _new_reader(self) -> PgReadRows:
        try:
            return PgReadRows(self)
        except psycopg.Error as exc:  # pool timeout or no server
            raise Unavailable(f"database unavailable: {exc}") from exc

    def _release(self, rows: PgReadRows) -> None:
        with contextlib.suppress(psycopg.Error):
            if rows.pooled:
                self._pool.putconn(rows.conn)
            else:
                rows.conn.close()

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
        self._generation.close()
        self._readers.close()
        self._pool.close()

