"""The delivery journal: every callback polytag sends or decides not to send, with the request,
each attempt's answer, the outcome and the latency. A bounded ring, newest last."""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from polytag.callbacks.face import Event, Outgoing

BODY_KEPT = 4096  # characters of an answer kept per attempt
PENDING = ("queued", "sending")


@dataclass
class Attempt:
    number: int
    status: int | None
    body: str
    error: str
    ms: float

    def to_json(self) -> dict[str, Any]:
        return {"number": self.number, "status": self.status, "body": self.body, "error": self.error,
                "ms": round(self.ms, 3)}


@dataclass
class Delivery:
    id: int
    app: str
    kind: str  # the event's kind, or "url_check"
    fields: dict[str, Any]
    dedupe: str
    request: Outgoing
    state: str = "queued"  # queued, sending, delivered, failed, dropped, refused
    attempts: list[Attempt] = field(default_factory=list)
    queued_at: float = field(default_factory=time.time)
    started: float = field(default_factory=time.perf_counter)
    latency_ms: float | None = None
    note: str = ""
    duplicate_of: int | None = None

    def settle(self, state: str, note: str = "") -> None:
        self.state, self.note = state, note or self.note
        self.latency_ms = (time.perf_counter() - self.started) * 1000

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "app": self.app, "event": self.kind, "fields": self.fields,
                "dedupe": self.dedupe, "state": self.state, "note": self.note,
                "request": self.request.to_json(), "attempts": [a.to_json() for a in self.attempts],
                "queued_at": self.queued_at, "duplicate_of": self.duplicate_of,
                "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 3)}


class DeliveryJournal:
    def __init__(self, size: int = 10_000) -> None:
        self._ids = itertools.count(1)
        self._ring: deque[Delivery] = deque(maxlen=size)
        self._lock = threading.Lock()

    def record(self, app: str, event: Event, request: Outgoing, duplicate_of: int | None = None) -> Delivery:
        with self._lock:
            d = Delivery(next(self._ids), app, event.kind, dict(event.fields), event.dedupe, request,
                         duplicate_of=duplicate_of)
            self._ring.append(d)
        return d

    def select(self, app: str | None = None, after: int | None = None, limit: int | None = None) -> list[Delivery]:
        with self._lock:
            got = [d for d in self._ring if (app is None or d.app == app) and (after is None or d.id > after)]
        return got[-limit:] if limit else got

    def pending(self, app: str | None = None) -> int:
        with self._lock:
            return sum(1 for d in self._ring if d.state in PENDING and (app is None or d.app == app))

    def clear(self, app: str | None = None) -> int:
        with self._lock:
            kept = [d for d in self._ring if app is not None and d.app != app]
            gone = len(self._ring) - len(kept)
            self._ring.clear()
            self._ring.extend(kept)
        return gone
