"""Which apps a process keeps in memory: each app's membership index and subject directory,
the least recently used dropped once their estimated size passes a byte budget.

Both are caches of the database (an index is brought to the app's head before every use, a
directory is extended to it), so dropping one costs only its reload on next use, never an
answer. An app a request is using is pinned and never dropped meanwhile; an object dropped
while someone unpinned still holds it stays valid for them (it is only no longer shared).

Threads: holders call `used` from the event loop, from worker threads (native reads) and from
the writer; the budget is enforced under one lock, which is taken before a holder's own locks
(`forget`) and never while a holder holds one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol

MB = 1024 * 1024
CHECK_EVERY = 256  # uses between two re-measures of every resident app (growth between requests)

# the apps pinned by the request running in this context, released when it ends (`request`)
_request_pins: ContextVar[list[tuple[Resident, int]] | None] = ContextVar("polytag_request_pins", default=None)


class Holder(Protocol):
    """A per-app cache: the bytes it holds for an app (an estimate, cheap), and dropping them."""

    def bytes_of(self, app_id: int) -> int: ...
    def forget(self, app_id: int) -> None: ...


class Resident:
    """The apps resident in this process, least recently used first, within `budget` bytes
    (None: no budget). `loads` counts apps that became resident, `evictions` those dropped."""

    def __init__(self, budget: int | None = None) -> None:
        self.budget = budget
        self.holders: list[Holder] = []
        self._lock = threading.Lock()
        self._apps: OrderedDict[int, int] = OrderedDict()  # app -> bytes when last measured, LRU first
        self._pins: dict[int, int] = {}
        self._total = 0
        self._uses = 0
        self.loads = self.evictions = 0

    def hold(self, holder: Holder) -> None:
        self.holders.append(holder)

    # use -------------------------------------------------------------------------------------
    def used(self, app_id: int) -> None:
        """A holder is serving `app_id` now (and may just have loaded it). Never call it while
        holding a holder's lock: it may make the holders forget other apps."""
        with self._lock:
            size = self._apps.get(app_id)
            if size is None:
                self._apps[app_id] = 0
                self.loads += 1
            else:
                self._apps.move_to_end(app_id)
            if self.budget is None:
                return
            self._uses += 1
            if self._uses >= CHECK_EVERY:
                self._uses = 0
                for other in self._apps:
                    self._measure(other)
            elif size is None:
                self._measure(app_id)
            self._enforce(keep=app_id)  # the caller is about to use it, pinned or not

    @contextmanager
    def pinned(self, app_id: int) -> Iterator[None]:
        """`app_id` is not dropped inside the block (loading it stays the holders' business);
        on the way out its size is measured again and the budget enforced."""
        with self._lock:
            self._pins[app_id] = self._pins.get(app_id, 0) + 1
        try:
            yield
        finally:
            self._unpin(app_id)

    def _unpin(self, app_id: int) -> None:
        with self._lock:
            left = self._pins.pop(app_id) - 1
            if left:
                self._pins[app_id] = left
            if self.budget is not None and app_id in self._apps:
                self._measure(app_id)
                self._enforce(keep=None)

    @contextmanager
    def request(self) -> Iterator[None]:
        """A request's extent: apps it pins with `pin_for_request` stay until it ends (the pins
        follow the request into worker threads, which copy its context)."""
        pins: list[tuple[Resident, int]] = []
        token = _request_pins.set(pins)
        try:
            yield
        finally:
            _request_pins.reset(token)
            for resident, app_id in pins:
                resident._unpin(app_id)

    def pin_for_request(self, app_id: int) -> None:
        """Pin `app_id` until the current `request` ends (nothing outside one)."""
        pins = _request_pins.get()
        if pins is None or (self, app_id) in pins:
            return
        with self._lock:
            self._pins[app_id] = self._pins.get(app_id, 0) + 1
        pins.append((self, app_id))

    # the budget ------------------------------------------------------------------------------
    def _measure(self, app_id: int) -> None:  # under the lock
        size = sum(h.bytes_of(app_id) for h in self.holders)
        self._total += size - self._apps[app_id]
        self._apps[app_id] = size

    def _enforce(self, keep: int | None) -> None:  # under the lock
        if self.budget is None or self._total <= self.budget:
            return
        for app_id in list(self._apps):  # least recently used first
            if self._total <= self.budget:
                return
            if app_id != keep and app_id not in self._pins:
                self._total -= self._apps.pop(app_id)
                for holder in self.holders:
                    holder.forget(app_id)
                self.evictions += 1

    # what /metrics reads ---------------------------------------------------------------------
    def resident_bytes(self) -> int:
        """Every resident app measured now."""
        with self._lock:
            for app_id in self._apps:
                self._measure(app_id)
            return self._total

    def resident_apps(self) -> int:
        return len(self._apps)

    def pinned_apps(self) -> int:
        return len(self._pins)
