"""Injected delivery faults: delay, drop or duplicate the callbacks of an app (or all apps), so a
developer can test a handler that must be idempotent or tolerate late events. Like the call faults
(polytag.control.faults): a probability, a number of times, and a seed for the same run each time."""

from __future__ import annotations

import itertools
import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from polytag.control.firing import first_firing
from polytag.control.http import BadRequest, opt_int, opt_number, opt_str

ACTIONS = ("delay", "drop", "duplicate")
MAX_DELAY_MS = 60_000


@dataclass
class DeliveryFault:
    id: str
    action: str
    app: str | None
    event: str | None
    delay_ms: float
    probability: float
    times: int | None
    seed: int | None
    fired: int = 0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "action": self.action, "app": self.app, "event": self.event,
                "delay_ms": self.delay_ms, "probability": self.probability, "times": self.times,
                "seed": self.seed, "fired": self.fired}

    def matches(self, app: str, event: str) -> bool:
        return self.times != 0 and (self.app is None or self.app == app) and self.event in (None, event)


def parse(doc: Mapping[str, Any], fault_id: str) -> DeliveryFault:
    unknown = set(doc) - {"action", "app", "event", "delay_ms", "probability", "times", "seed"}
    if unknown:
        raise BadRequest(f"unknown fields: {sorted(unknown)}")
    action = opt_str(doc, "action")
    if action not in ACTIONS:
        raise BadRequest(f"`action` must be one of {', '.join(ACTIONS)}")
    delay = opt_number(doc, "delay_ms", 0, MAX_DELAY_MS) or 0.0
    if action == "delay" and not delay:
        raise BadRequest("`delay_ms` is required for a delay (1 to 60000)")
    prob, seed = opt_number(doc, "probability", 0, 1), opt_int(doc, "seed", -(2**63), 2**63 - 1)
    return DeliveryFault(fault_id, action, opt_str(doc, "app"), opt_str(doc, "event"), delay,
                         1.0 if prob is None else prob, opt_int(doc, "times", 1), seed,
                         rng=random.Random(seed) if seed is not None else random.Random())


class DeliveryFaults:
    def __init__(self) -> None:
        self._faults: dict[str, DeliveryFault] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, doc: Mapping[str, Any]) -> DeliveryFault:
        fault = parse(doc, f"d{next(self._ids)}")
        with self._lock:
            self._faults[fault.id] = fault
        return fault

    def all(self) -> list[DeliveryFault]:
        with self._lock:
            return list(self._faults.values())

    def clear(self, app: str | None = None) -> None:
        with self._lock:
            for f in [f for f in self._faults.values() if app is None or f.app == app]:
                del self._faults[f.id]

    def fire(self, app: str, event: str) -> DeliveryFault | None:
        """The first matching fault that fires for this delivery (its dice and `times` decide)."""
        with self._lock:
            return first_firing(self._faults.values(), lambda f: f.matches(app, event))
