"""Injected faults: a vendor error code and/or latency for matching calls, answered in the
dialect's own envelope. With a `seed`, which calls fail is the same on every run."""

from __future__ import annotations

import asyncio
import fnmatch
import itertools
import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from polytag.control.calls import AppHints
from polytag.control.firing import first_firing
from polytag.control.http import BadRequest, opt_int, opt_number, opt_str
from polytag.dialects import Call, Dialect, VendorError

MAX_LATENCY_MS = 60_000


@dataclass
class Fault:
    id: str
    dialect: str
    app: str | None
    path: str | None
    error: int | None
    latency_ms: float
    probability: float
    times: int | None  # left to fire; None = forever
    seed: int | None
    fired: int = 0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "dialect": self.dialect, "app": self.app, "path": self.path,
                "error": self.error, "latency_ms": self.latency_ms, "probability": self.probability,
                "times": self.times, "seed": self.seed, "fired": self.fired}

    def matches(self, call: Call, app_name: str | None) -> bool:
        if call.dialect.name != self.dialect or self.times == 0:
            return False
        if self.path is not None and not _glob(self.path, call.endpoint.path, str(call.scope["path"])):
            return False
        return self.app is None or self.app == app_name


def _glob(pattern: str, below: str, full: str) -> bool:
    return fnmatch.fnmatchcase(below, pattern.lstrip("/")) or fnmatch.fnmatchcase(full, pattern)




def parse(doc: Mapping[str, Any], dialects: Mapping[str, Dialect], fault_id: str) -> Fault:
    dialect = opt_str(doc, "dialect")
    if dialect is None or dialect not in dialects:
        raise BadRequest(f"`dialect` must be one of {sorted(dialects)}")
    unknown = set(doc) - {"dialect", "app", "path", "error", "latency_ms", "probability", "times", "seed"}
    if unknown:
        raise BadRequest(f"unknown fields: {sorted(unknown)}")
    error = opt_int(doc, "error", -(2**31))
    if error is not None and (error == 0 or error not in dialects[dialect].codes):
        raise BadRequest(f"{dialect} has no error code {error}")
    latency = opt_number(doc, "latency_ms", 0, MAX_LATENCY_MS) or 0.0
    if error is None and not latency:
        raise BadRequest("a fault needs `error` and/or `latency_ms`")
    seed = opt_int(doc, "seed", -(2**63))
    prob = opt_number(doc, "probability", 0, 1)
    return Fault(fault_id, dialect, opt_str(doc, "app"), opt_str(doc, "path"), error, latency,
                 1.0 if prob is None else prob, opt_int(doc, "times", 1), seed,
                 rng=random.Random(seed) if seed is not None else random.Random())


class Faults:
    """The active faults, in creation order; `intercept` is a Service call interceptor."""

    def __init__(self, hints: AppHints) -> None:
        self.hints = hints
        self._faults: dict[str, Fault] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, doc: Mapping[str, Any], dialects: Mapping[str, Dialect]) -> Fault:
        fault = parse(doc, dialects, f"f{next(self._ids)}")
        with self._lock:
            self._faults[fault.id] = fault
        return fault

    def list(self) -> list[Fault]:
        with self._lock:
            return list(self._faults.values())

    def remove(self, fault_id: str) -> bool:
        with self._lock:
            return self._faults.pop(fault_id, None) is not None

    def clear(self, app: str | None = None) -> None:
        with self._lock:
            for f in [f for f in self._faults.values() if app is None or f.app == app]:
                del self._faults[f.id]

    async def intercept(self, call: Call) -> BaseException | None:
        if not self._faults:
            return None
        fault = self._pick(call)
        if fault is None:
            return None
        if fault.latency_ms:
            await asyncio.sleep(fault.latency_ms / 1000)
        return VendorError(fault.error, f"injected fault {fault.id}") if fault.error is not None else None

    def _pick(self, call: Call) -> Fault | None:
        """The first matching fault that fires (its dice and its `times` decide), or None."""
        app = None
        if any(f.app is not None for f in self._faults.values()):
            found = self.hints.app_of(call)
            app = found.name if found else None
        with self._lock:
            return first_firing(self._faults.values(), lambda fault: fault.matches(call, app))
