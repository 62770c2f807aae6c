"""A counter every process on one SQLite database shares, for caches of what rarely changes.

Apps and access tokens are read on every vendor call. Caching them is safe only if every
process learns at once that any of them changed, in any process. The counter lives in a
file beside the database (`<db>-polytag`), mapped into memory by each process that opens it,
as SQLite's own WAL index is: every write group that may have changed an app or a token bumps
it before its COMMIT and again after it, before anyone hears back (polytag.store.writer), and
a cache entry is used only while the counter still holds the value it was read under. Bumps
from several processes are serialized by an advisory lock on the file; opening the database
bumps it too.

PostgreSQL replicas may run on other hosts, so that backend has no shared counter: its
`Fresh` caches are off. Its database keeps a generation row instead (`DatabaseGeneration`,
polytag.store.postgres.generation), which a caller reads, off the event loop, to know whether a
copy of a token and its app is still exact.
"""

from __future__ import annotations

import fcntl
import mmap
import os
from typing import Any, Protocol


class Generation(Protocol):
    @property
    def value(self) -> int: ...

    def bump(self) -> None: ...


class DatabaseGeneration(Protocol):
    """A generation kept in the database, moved in the same transaction as a change to an app
    or a token. `now()` reads it after the call began; `token_and_app` reads a token's row, its
    app's row and the generation they are exact under, in one statement."""

    async def now(self) -> int: ...

    def token_and_app(self, token_hash: str) -> tuple[int, tuple[Any, ...]] | None: ...

    def close(self) -> None: ...


class SharedGeneration:
    SIZE = 8

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)  # as SQLite makes its -shm: not a secret
        if os.fstat(self._fd).st_size < self.SIZE:  # new: zeros (growing to the same size again is harmless)
            os.ftruncate(self._fd, self.SIZE)
        self._map = mmap.mmap(self._fd, self.SIZE)

    @property
    def value(self) -> int:
        return int.from_bytes(self._map[: self.SIZE], "little")

    def bump(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            self._map[: self.SIZE] = ((self.value + 1) & 0xFFFF_FFFF_FFFF_FFFF).to_bytes(self.SIZE, "little")
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        self._map.close()
        os.close(self._fd)
