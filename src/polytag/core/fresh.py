"""A cache of rows that rarely change (apps, access tokens), exactly as fresh as reading them.

An entry is used only while the store's shared generation (polytag.store.generation) still
holds the value it was read under: any write group, in any process on the database, that may
have changed an app or a token moves it before its caller hears back. A store without a
shared generation (PostgreSQL, whose replicas may run on other hosts) caches nothing.
"""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

from polytag.store.generation import Generation

K = TypeVar("K")
V = TypeVar("V")

MAX_ENTRIES = 100_000


class Fresh(Generic[K, V]):
    def __init__(self, generation: Generation | None, max_entries: int = MAX_ENTRIES) -> None:
        self.generation = generation
        self.max_entries = max_entries
        self._entries: dict[K, tuple[V, int]] = {}
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None or self.generation is None or entry[1] != self.generation.value:
            return None
        return entry[0]

    def mark(self) -> int:
        """Take this before reading the row: a write that lands meanwhile makes the entry stale."""
        return self.generation.value if self.generation is not None else -1

    def put(self, key: K, value: V, mark: int) -> None:
        if self.generation is None:
            return
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = (value, mark)

    def drop(self, key: K) -> None:
        with self._lock:
            self._entries.pop(key, None)
