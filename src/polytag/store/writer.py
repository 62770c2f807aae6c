"""Group commit: one thread runs queued write ops, each in a savepoint, one COMMIT per group.

Many concurrent requests share one durable commit (one fsync), which is what lets a
batchtagging call cost about as much as the HTTP stack itself. An op that raises is
rolled back to its savepoint alone; a failed COMMIT fails every op of the group.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol

from polytag.errors import Unavailable

log = logging.getLogger("polytag.store")


class TxBackend(Protocol):
    """What the writer needs of a backend's write connection."""

    def begin(self) -> Any: ...  # returns the Tx for this group
    def savepoint(self) -> None: ...
    def release(self) -> None: ...
    def rollback_to(self) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def close(self) -> None: ...


_STOP = object()


class GroupWriter:
    def __init__(self, backend: TxBackend, max_group: int = 512, name: str = "polytag-writer") -> None:
        self._backend = backend
        self._max_group = max_group
        self._q: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()
        self.groups = 0
        self.ops = 0

    def submit(self, op: Callable[[Any], Any]) -> Future[Any]:
        fut: Future[Any] = Future()
        self._q.put((op, fut))
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

    def _group(self, batch: list[tuple[Callable[[Any], Any], Future[Any]]]) -> None:
        live = [(op, fut) for op, fut in batch if fut.set_running_or_notify_cancel()]
        if not live:
            return
        try:
            tx = self._backend.begin()
        except Exception as exc:  # the database is unreachable or locked past its timeout
            log.exception("begin failed")
            for _, fut in live:
                fut.set_exception(Unavailable(f"store unavailable: {exc}"))
            return
        outcomes: list[tuple[Future[Any], Any, BaseException | None]] = []
        for op, fut in live:
            marks = (len(tx.after_commit), len(tx.on_abort))
            self._backend.savepoint()
            try:
                result = op(tx)
            except BaseException as error:  # handed to the caller's future
                self._backend.rollback_to()
                aborted = tx.on_abort[marks[1]:]
                del tx.after_commit[marks[0]:]
                del tx.on_abort[marks[1]:]
                for hook in reversed(aborted):
                    hook()
                outcomes.append((fut, None, error))
            else:
                self._backend.release()
                outcomes.append((fut, result, None))
        try:
            self._backend.commit()
        except Exception as commit_error:
            log.exception("commit failed")
            try:
                self._backend.rollback()
            finally:
                for hook in reversed(tx.on_abort):
                    hook()
            for fut, _, _ in outcomes:
                fut.set_exception(Unavailable(f"commit failed: {commit_error}"))
            return
        self.groups += 1
        self.ops += len(outcomes)
        for hook in [*tx.after_group, *tx.after_commit]:
            try:
                hook()
            except Exception:  # a cache that failed to update is dropped by its own hook
                log.exception("after-commit hook failed")
        for fut, result, failure in outcomes:
            if failure is None:
                fut.set_result(result)
            else:
                fut.set_exception(failure)
