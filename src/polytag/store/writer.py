"""Group commit: queued write ops run each in a savepoint, one COMMIT per group.

Many concurrent requests share one durable commit (one fsync). An op that raises is rolled
back to its savepoint alone; a failed COMMIT fails every op of the group.

Two drivers share that logic: `GroupWriter`, a thread for synchronous callers (CLI, seeding,
tests), and `LoopWriter`, which a server attaches to its event loop. The latter runs the ops
on the loop's own thread and hands only COMMIT (an fsync) and a BEGIN that must wait for
another process's lock to a worker, with the GIL released, so two threads never fight over
the GIL for Python work. A BEGIN that needs no waiting (SQLite's `try_begin`) runs inline.

A group whose ops are not all `pure` moves the store's shared generation (see
polytag.store.generation) before its COMMIT and again after it.

Every op names the app whose rows it writes (`app`), or None: it may touch several apps or
rows of no app (app create/delete, seeds, snapshot loads). A group's BEGIN is handed the
`Locks` of its ops: the apps, ascending, or `EVERY_APP` if any op named none. A backend whose
writers can run side by side (PostgreSQL) locks only those apps, so groups of different apps
commit in parallel; SQLite has one writer for the file whatever the apps. The loop writer
forms the group before its BEGIN and lets ops queued while BEGIN waited join the group only
if the locks taken cover them; the others wait for the next group.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol

from polytag.errors import Unavailable
from polytag.store.generation import DatabaseGeneration, Generation

log = logging.getLogger("polytag.store")

Op = Callable[[Any], Any]
Outcome = tuple[Any, Any, BaseException | None]  # (future, result, error)
Item = tuple[Op, Any, bool, "int | None"]  # (op, future, pure, app or None: any app)
Locks = tuple[int, ...] | None  # the apps a group writes, ascending; None: every app (exclusive)
EVERY_APP: Locks = None


def locks_of(batch: list[Item]) -> Locks:
    """What a group of these ops must lock: their apps, ascending, or every app if one named none."""
    apps: set[int] = set()
    for item in batch:
        if item[3] is None:
            return EVERY_APP
        apps.add(item[3])
    return tuple(sorted(apps))


def covers(locks: Locks, app: int | None) -> bool:
    return locks is None or (app is not None and app in locks)


class TxBackend(Protocol):
    """What a writer needs of a backend's write connection. A backend may also offer
    `try_begin(locks)`: BEGIN if that needs no waiting, else None (the loop writer uses it),
    `one_writer = True`: its BEGIN locks every app whatever it is asked for (SQLite), and
    `bump_generation()`: an impure group moves the database's own generation before COMMIT."""

    def begin(self, locks: Locks = EVERY_APP) -> Any: ...  # returns the Tx for this group, `locks` held
    def savepoint(self) -> None: ...
    def release(self) -> None: ...
    def rollback_to(self) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def close(self) -> None: ...


def run_ops(backend: TxBackend, tx: Any, batch: list[Item]) -> list[Outcome]:
    """Run each op in its own savepoint; a failing op is rolled back alone, with its hooks.

    The savepoint is opened lazily, by the op's first write (see the backends' `_exec`):
    an op that only reads, or that defers its writes to the group's `before_commit`
    hooks (the membership log does), costs no SAVEPOINT/RELEASE round."""
    outcomes: list[Outcome] = []
    for op, fut, _pure, _app in batch:
        marks = (len(tx.after_commit), len(tx.on_abort))
        tx.savepoint_open = False
        try:
            result = op(tx)
        except BaseException as error:  # handed to the caller's future
            if tx.savepoint_open:
                backend.rollback_to()
            tx.savepoint_open = False
            aborted = tx.on_abort[marks[1]:]
            del tx.after_commit[marks[0]:]
            del tx.on_abort[marks[1]:]
            for hook in reversed(aborted):
                hook()
            outcomes.append((fut, None, error))
        else:
            if tx.savepoint_open:
                backend.release()
            tx.savepoint_open = False
            outcomes.append((fut, result, None))
    tx.savepoint_open = True  # group-level writes belong to no op: they need no savepoint
    tx.group_writes = True  # nor a round trip of their own: a backend may send them with COMMIT
    for hook in tx.before_commit:  # (log rows, counters, versions): a failure fails the group
        hook()
    return outcomes


def before_commit(backend: TxBackend, generation: Generation | None, pure: bool) -> None:
    """An impure group moves the generation before its COMMIT too: were this process to die
    between COMMIT and the bump in `finish`, caches that read before COMMIT are already stale.
    (One that read between this bump and COMMIT is made stale by `finish`'s.) A backend whose
    database keeps a generation of its own (PostgreSQL) moves it inside the transaction."""
    if pure:
        return
    if generation is not None:
        generation.bump()
    bump = getattr(backend, "bump_generation", None)
    if bump is not None:
        bump()


def finish(backend: TxBackend, tx: Any, outcomes: list[Outcome], commit_error: BaseException | None,
           generation: Generation | None = None, pure: bool = False) -> None:
    """After COMMIT: run the hooks and settle every future (all failed if COMMIT did). Unless
    every op of the group was pure, the generation moves first, before any caller hears back
    (see polytag.store.generation: an op submitted as `pure` promises it changes no app and no
    access token)."""
    if generation is not None and not pure:
        generation.bump()
    if commit_error is not None:
        log.error("commit failed: %s", commit_error)
        try:
            backend.rollback()
        finally:
            for hook in reversed(tx.on_abort):
                hook()
        for fut, _, _ in outcomes:
            _settle(fut, None, Unavailable(f"commit failed: {commit_error}"))
        return
    for hook in [*tx.after_group, *tx.after_commit]:
        try:
            hook()
        except Exception:  # a cache that failed to update is dropped by its own hook
            log.exception("after-commit hook failed")
    for fut, result, failure in outcomes:
        _settle(fut, result, failure)


def _settle(fut: Any, result: Any, failure: BaseException | None) -> None:
    if fut.done():
        return
    if failure is None:
        fut.set_result(result)
    else:
        fut.set_exception(failure)


_STOP = object()


class GroupWriter:
    """A thread that drains the queue into groups."""

    def __init__(self, backend: TxBackend, max_group: int = 512, name: str = "polytag-writer",
                 generation: Generation | None = None) -> None:
        self._backend = backend
        self._generation = generation
        self._max_group = max_group
        self._q: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, op: Op, pure: bool = False, app: int | None = None) -> Future[Any]:
        fut: Future[Any] = Future()
        self._q.put((op, fut, pure, app))
        return fut

    def close(self) -> None:
        self._q.put(_STOP)
        self._thread.join(timeout=30)
        self._backend.close()

    def _run(self) -> None:
        while True:
            item = self._q.get()
            if item is _STOP:
                return
            batch = [item]
            stop = False
            while len(batch) < self._max_group:
                try:
                    nxt = self._q.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP:
                    stop = True
                    break
                batch.append(nxt)
            self._group(batch)
            if stop:
                return

    def _group(self, batch: list[Item]) -> None:
        live = [item for item in batch if item[1].set_running_or_notify_cancel()]
        if not live:
            return
        try:
            tx = self._backend.begin(locks_of(live))
        except Exception as exc:  # the database is unreachable or locked past its timeout
            log.exception("begin failed")
            for _, fut, _, _ in live:
                fut.set_exception(Unavailable(f"store unavailable: {exc}"))
            return
        error: BaseException | None = None
        outcomes: list[Outcome] = [(fut, None, None) for _, fut, _, _ in live]
        pure = all(item[2] for item in live)
        try:
            outcomes = run_ops(self._backend, tx, live)
            before_commit(self._backend, self._generation, pure)
            self._backend.commit()
        except Exception as exc:
            error = exc
        finish(self._backend, tx, outcomes, error, self._generation, pure)


class LoopWriter:
    """Group commit driven by an asyncio loop; ops run on the loop thread, BEGIN/COMMIT in a worker."""

    def __init__(self, backend: TxBackend, loop: asyncio.AbstractEventLoop, max_group: int = 1024,
                 generation: Generation | None = None) -> None:
        self._backend = backend
        self._generation = generation
        self._loop = loop
        self._thread_id = threading.get_ident()
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="polytag-commit")
        self._pending: list[Item] = []
        self._busy = False
        self._idle = asyncio.Event()
        self._idle.set()
        self._max_group = max_group

    def submit(self, op: Op, pure: bool = False, app: int | None = None) -> Any:
        """An asyncio future on the loop's thread, a concurrent one from any other thread."""
        if threading.get_ident() == self._thread_id:
            fut: Any = self._loop.create_future()
            self._enqueue(op, fut, pure, app)
            return fut
        cfut: Future[Any] = Future()
        self._loop.call_soon_threadsafe(self._enqueue, op, cfut, pure, app)
        return cfut

    def _enqueue(self, op: Op, fut: Any, pure: bool = False, app: int | None = None) -> None:
        self._pending.append((op, fut, pure, app))
        if not self._busy:
            self._busy = True
            self._idle.clear()
            self._loop.call_soon(self._start)

    def _start(self) -> None:
        # a backend with one writer for every app (SQLite) locks them all whatever the ops name
        one_writer = getattr(self._backend, "one_writer", False)
        locks = EVERY_APP if one_writer else locks_of(self._pending[: self._max_group])
        try_begin = getattr(self._backend, "try_begin", None)  # a backend that can BEGIN without waiting
        tx = try_begin(locks) if try_begin is not None else None
        if tx is not None:
            self._run(tx, None, locks)
            return
        began = self._loop.run_in_executor(self._pool, self._backend.begin, locks)
        began.add_done_callback(lambda b: self._began(b, locks))

    def _began(self, began: asyncio.Future[Any], locks: Locks) -> None:
        try:
            tx = began.result()
        except Exception as exc:
            self._run(None, exc, locks)
            return
        self._run(tx, None, locks)

    def _take(self, locks: Locks) -> list[Item]:
        """Up to max_group pending ops the locks cover, in order (ops queued while BEGIN waited
        join if covered); the rest stay pending for the next group."""
        batch: list[Item] = []
        rest: list[Item] = []
        for item in self._pending:
            if len(batch) < self._max_group and covers(locks, item[3]):
                batch.append(item)
            else:
                rest.append(item)
        self._pending = rest
        return batch

    def _run(self, tx: Any, error: BaseException | None, locks: Locks = EVERY_APP) -> None:
        batch = self._take(locks)
        batch = [item for item in batch if not item[1].done() and
                 (not isinstance(item[1], Future) or item[1].set_running_or_notify_cancel())]
        pure = all(item[2] for item in batch)
        if error is not None:
            for _, fut, _, _ in batch:
                _settle(fut, None, Unavailable(f"store unavailable: {error}"))
            self._next()
            return
        try:
            outcomes = run_ops(self._backend, tx, batch)
        except Exception as exc:
            finish(self._backend, tx, [(item[1], None, None) for item in batch], exc, self._generation, pure)
            self._next()
            return
        before_commit(self._backend, self._generation, pure)
        done = self._loop.run_in_executor(self._pool, self._backend.commit)
        done.add_done_callback(lambda d: self._committed(d, tx, outcomes, pure))

    def _committed(self, done: asyncio.Future[Any], tx: Any, outcomes: list[Outcome], pure: bool) -> None:
        finish(self._backend, tx, outcomes, done.exception(), self._generation, pure)
        self._next()

    def _next(self) -> None:
        if self._pending:
            self._start()
        else:
            self._busy = False
            self._idle.set()

    async def drain(self) -> None:
        """Wait until every op submitted so far is settled."""
        while self._busy or self._pending:
            await self._idle.wait()

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._backend.close()


class WriterHost:
    """What every store does with its writers: a thread for synchronous callers, and the
    event loop of a server once one attaches. A store supplies `_tx_backend()` (a new write
    connection) and calls `self._start_writer()` when it opens."""

    _writer: GroupWriter
    _loop_writer: LoopWriter | None = None
    generation: Generation | None = None  # moved by write groups that may change apps or tokens
    database_generation: DatabaseGeneration | None = None  # the same, in the database (PostgreSQL)

    def _tx_backend(self) -> TxBackend:
        raise NotImplementedError

    def _start_writer(self) -> None:
        """The writer thread (set `generation` first, if the backend shares one)."""
        self._writer = GroupWriter(self._tx_backend(), generation=self.generation)

    def submit(self, op: Op, pure: bool = False, app: int | None = None) -> Future[Any]:
        """Queue `op` for the next group. `pure`: it writes no app or token row (see Generation).
        `app`: the only app whose rows it writes (None: any, so its group locks every app)."""
        loop_writer = self._loop_writer
        if loop_writer is not None:
            return loop_writer.submit(op, pure, app)
        return self._writer.submit(op, pure, app)

    def write(self, op: Op) -> Any:
        return self.submit(op).result()

    def attach_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """Run write groups on `loop` from now on (a server does this at startup)."""
        self._loop_writer = LoopWriter(self._tx_backend(), loop, generation=self.generation)

    async def detach_loop(self) -> None:
        """Settle every queued write, then go back to the writer thread."""
        lw = self._loop_writer
        if lw is not None:
            await lw.drain()
            self._loop_writer = None
            lw.close()

    @property
    def writer(self) -> GroupWriter:
        return self._writer
