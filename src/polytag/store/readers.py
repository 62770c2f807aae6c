"""One read connection per live thread, given back when its thread has ended.

Reads run on the thread that asks (the event loop, the threads of the HTTP stack's pool, the
commit thread). Worker threads come and go (an idle one exits after seconds and a new one takes
its place), so a reader kept per thread for ever would leak: a connection, its file descriptor
and its page cache for every thread that ever read. Each new reader first releases the readers
of threads that have ended; at most one reader per live thread is held.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

R = TypeVar("R")


class ThreadReaders(Generic[R]):
    def __init__(self, make: Callable[[], R], release: Callable[[R], None]) -> None:
        self._make, self._release = make, release
        self._local = threading.local()
        self._held: list[tuple[threading.Thread, R]] = []
        self._lock = threading.Lock()

    def get(self) -> R:
        """The calling thread's reader, made (after releasing ended threads' readers) on first use."""
        rows: R | None = getattr(self._local, "rows", None)
        if rows is None:
            self.sweep()
            rows = self._make()
            with self._lock:
                self._held.append((threading.current_thread(), rows))
            self._local.rows = rows
        return rows

    def sweep(self) -> int:
        """Release the readers of threads that have ended; how many."""
        with self._lock:
            ended = [r for t, r in self._held if not t.is_alive()]
            self._held = [(t, r) for t, r in self._held if t.is_alive()]
        for rows in ended:
            with contextlib.suppress(Exception):  # a broken connection is given back all the same
                self._release(rows)
        return len(ended)

    def held(self) -> list[R]:
        with self._lock:
            return [r for _, r in self._held]

    def close(self) -> None:
        """Release every reader (the store is closing; no thread reads any more)."""
        with self._lock:
            held, self._held = [r for _, r in self._held], []
        for rows in held:
            with contextlib.suppress(Exception):
                self._release(rows)
