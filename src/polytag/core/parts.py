"""The state a dialect adds to the core: built from explicit dependencies, held by name.

A dialect's record names a factory (`Dialect.parts`); the Service builds each one from `Deps`
(the neutral core pieces, never the Service itself) and keeps it in `service.parts[name]`.
Parts depend on `Deps` and on each other only forward, in the order their factory builds them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, runtime_checkable

from polytag.core.apps import Apps
from polytag.core.clock import Clock
from polytag.core.credentials import Tokens
from polytag.core.groups import Groups
from polytag.core.memberships import Memberships
from polytag.core.resident import Resident
from polytag.core.subjects import Subjects
from polytag.core.tags import Tags
from polytag.store import Store

P = TypeVar("P")


@dataclass(frozen=True)
class Deps:
    """What a part may be built from: the core pieces one Service owns."""

    store: Store
    clock: Clock
    resident: Resident
    apps: Apps
    memberships: Memberships
    subjects: Subjects
    tags: Tags
    groups: Groups
    tokens: Tokens


@runtime_checkable
class Forgetting(Protocol):
    """A part that keeps per-app state in memory (counters, caches) forgets it on reset."""

    def forget(self, app_id: int) -> None: ...


@runtime_checkable
class Sending(Protocol):
    """A part that keeps a log of messages it sent to an audience (push tasks, say) shows them in
    the one shape of the send log (`polytag.control.sends`), oldest first."""

    def sent(self, app: Any) -> list[dict[str, Any]]: ...


PartsFactory = Callable[[Deps], Any]


class Parts(Mapping[str, Any]):
    """The parts of every dialect a Service was given, by dialect name (read-only)."""

    def __init__(self, deps: Deps, factories: Mapping[str, PartsFactory] | None = None) -> None:
        self.deps = deps
        self._parts: dict[str, Any] = {name: build(deps) for name, build in (factories or {}).items()}
        self._lock = threading.Lock()

    def __getitem__(self, name: str) -> Any:
        return self._parts[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._parts)

    def __len__(self) -> int:
        return len(self._parts)

    def of(self, name: str, build: Callable[[Deps], P]) -> P:
        """The part `name`, built by `build` on first use when the Service was not given it
        (a Service made for one test or tool with only the presets)."""
        part = self._parts.get(name)
        if part is None:
            with self._lock:
                part = self._parts.get(name)
                if part is None:
                    part = self._parts[name] = build(self.deps)
        return part

    def forget(self, app_id: int) -> None:
        """Every part's in-memory state about the app."""
        for part in list(self._parts.values()):
            if isinstance(part, Forgetting):
                part.forget(app_id)
