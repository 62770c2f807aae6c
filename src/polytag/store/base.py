"""The Store protocol: rows in, rows out; writes run as ops in a group-committed transaction."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol, TypeVar

from polytag.store.generation import DatabaseGeneration, Generation
from polytag.store.rows import Rows

T = TypeVar("T")


class Tx(Rows):
    """The write side seen by one op: every row method, plus hooks that run after COMMIT.

    `group` is shared by the ops of one group commit (caches keep their pending overlays there);
    `after_commit` hooks of an op run once the group is durable, `on_abort` hooks if the op or
    the group fails; `before_commit` hooks write group-level state (counters) after the last
    op; `after_group` hooks run after a durable COMMIT whichever ops succeeded.
    """

    group: dict[Any, Any]
    savepoint_open: bool  # set by the backend when an op's first write opens its savepoint
    # set while the `before_commit` hooks run: their writes' results are not read, so a backend
    # may queue them and send them with COMMIT (PostgreSQL does, in one pipeline)
    group_writes: bool = False
    before_commit: list[Callable[[], None]]
    after_group: list[Callable[[], None]]
    after_commit: list[Callable[[], None]]
    on_abort: list[Callable[[], None]]


class Store(Protocol):
    backend: str
    url: str
    generation: Generation | None  # shared by every process, moved by writes to apps or tokens (or None)
    database_generation: DatabaseGeneration | None  # the same, kept in the database (PostgreSQL) or None

    def read(self) -> Rows:
        """Rows on a connection of the calling thread, autocommit, for reads."""

    def submit(self, op: Callable[[Tx], T], pure: bool = False, app: int | None = None) -> Future[T]:
        """Run `op` inside the next group transaction; the future resolves after COMMIT.
        `pure`: the op writes no app or credential row, so it leaves `generation` alone.
        `app`: the op writes rows of this app only (its group locks just that app, so groups
        of other apps may commit alongside); None: it may write any app's rows (it locks all)."""

    def write(self, op: Callable[[Tx], T]) -> T:
        """`submit(op).result()`, for callers that may block (CLI, tests, seeding)."""

    def attach_loop(self, loop: Any) -> None:
        """Run write groups on this asyncio loop (ops on its thread, COMMIT in a worker)."""

    async def detach_loop(self) -> None:
        """Settle queued writes and return to the writer thread."""

    def close(self) -> None: ...
