"""The database's generation on PostgreSQL: reads of it shared by concurrent callers, off the loop.

Replicas may run on other hosts, so no shared memory can tell a process that another changed
an app or a token (SQLite's `SharedGeneration` can). The `generation` row can: each write group
that may have changed one sets it in the same transaction (`_PgTxBackend.bump_generation`). A
copy read together with the row's value, in one statement, is exact while a read of the row
begun after the caller asked still finds that value.

`now()` gives the caller such a read without blocking the event loop: it waits for the next
read of the row, made on a thread of its own, and every caller that asked before that read was
sent shares it (like a group commit for one tiny read). A read already in flight when a caller
asks may have begun earlier, so it does not serve that caller; the one after it does.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg

from polytag.errors import Unavailable
from polytag.store.postgres.connection import TRANSIENT, connect
from polytag.store.rows.base import Row
from polytag.store.rows.tokens import _APP_COLS_OF_A

log = logging.getLogger("polytag.store")

BUMP = "UPDATE generation SET value = txid_current()"
_READ = "SELECT value FROM generation"
_TOKEN_AND_APP = (  # one statement: one snapshot for the rows and the value they are exact under
    f"SELECT g.value, t.app_id, t.kind, t.issued_at, t.expires_at, {_APP_COLS_OF_A}"
    " FROM tokens t JOIN apps a ON a.app_id = t.app_id, generation g WHERE t.token_hash = ?"
)


class PgGeneration:
    def __init__(self, store: Any) -> None:
        self.store = store  # PostgresStore: its conninfo, schema and per-thread read rows
        self._conn: psycopg.Connection[Any] | None = None
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="polytag-generation")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiting: list[asyncio.Future[int]] = []  # callers for the next read
        self._reading = False

    async def now(self) -> int:
        """The generation, read after this call began (shared with callers that asked meanwhile)."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new loop (tests run several): nothing of the old one is in flight
            self._loop, self._waiting, self._reading = loop, [], False
        fut: asyncio.Future[int] = loop.create_future()
        self._waiting.append(fut)
        if not self._reading:
            self._start(loop)
        return await fut

    def token_and_app(self, token_hash: str) -> tuple[int, Row] | None:
        """(generation, the token's row and its app's row as `TokenRows.token_and_app`), one read."""
        got = self.store.read()._one(_TOKEN_AND_APP, (token_hash,))
        return None if got is None else (int(got[0]), got[1:])

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        waiting, self._waiting = self._waiting, []
        self._reading = True
        read = loop.run_in_executor(self._thread, self._read)
        read.add_done_callback(lambda done: self._done(loop, done, waiting))

    def _done(self, loop: asyncio.AbstractEventLoop, done: asyncio.Future[int],
              waiting: list[asyncio.Future[int]]) -> None:
        if loop is not self._loop:
            return
        self._reading = False
        error = done.exception()
        for fut in waiting:
            if fut.done():
                continue
            if error is not None:
                fut.set_exception(error)
            else:
                fut.set_result(done.result())
        if self._waiting:
            self._start(loop)

    def _read(self) -> int:
        """On the generation thread; a lost connection is replaced once (a read is safe to retry)."""
        for attempt in (1, 2):
            try:
                if self._conn is None or self._conn.closed or self._conn.broken:
                    self._conn = connect(self.store.conninfo, self.store.schema)
                row = self._conn.execute(_READ).fetchone()
                assert row is not None, "the generation row is missing"
                return int(row[0])
            except TRANSIENT as exc:
                if self._conn is not None:
                    self._conn.close()
                self._conn = None
                if attempt == 2:
                    raise Unavailable(f"database unavailable: {exc}") from exc
                log.warning("generation connection lost, reconnecting: %s", exc)
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._thread.shutdown(wait=True)
        if self._conn is not None:
            self._conn.close()
