"""What a dialect tells the callback machinery: its modes, how it signs a URL check, how it
shapes a message on the wire, and the actions `POST /_polytag/simulate` can run for it."""

from __future__ import annotations

import secrets
import string
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from polytag.callbacks.config import CallbackConfig
from polytag.core.models import App
from polytag.core.service import Service


@dataclass(frozen=True)
class Outgoing:
    """One HTTP request to the developer's server, exactly as it will be sent."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    def to_json(self) -> dict[str, Any]:
        return {"method": self.method, "url": self.url, "headers": dict(self.headers),
                "body": self.body.decode("utf-8", "replace")}


@dataclass(frozen=True)
class Event:
    """One message a vendor pushes: its kind (the vendor's event name), its fields as the
    developer decodes them, and the vendor's dedupe key."""

    kind: str
    fields: Mapping[str, Any]
    dedupe: str = ""


@dataclass(frozen=True)
class Handshake:
    """A URL check: the request, and the body a right server answers."""

    request: Outgoing
    expected: bytes


@dataclass(frozen=True)
class Stamp:
    """The per-message randomness of a push: timestamp, nonce and the envelope's prefix."""

    timestamp: str
    nonce: str
    random16: bytes = field(default=b"", repr=False)

    @classmethod
    def fresh(cls, now: float) -> Stamp:
        nonce = "".join(secrets.choice(string.digits) for _ in range(10))
        prefix = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(16))
        return cls(str(int(now)), nonce, prefix.encode())


Action = Callable[[Service, App, Mapping[str, Any]], Awaitable[list[Event]]]


@dataclass(frozen=True)
class CallbackFace:
    """A dialect's callbacks. `modes`: the first is the default. `actions`: simulate action name
    -> coroutine that changes the app's state as the vendor would and returns the events it pushes
    (raise ValueError for bad input: answered 400). `events`: what it may push, each as the
    vendor names it ("Event" or "Event ChangeType"), as its compatibility page lists them."""

    modes: tuple[str, ...]
    receive_id: Callable[[App], str]
    handshake: Callable[[App, CallbackConfig, Stamp], Handshake]
    render: Callable[[App, CallbackConfig, Event, Stamp], Outgoing]
    actions: Mapping[str, Action]
    acknowledged: Callable[[int, bytes], bool]
    timeout_s: float = 5.0
    attempts: int = 3
    events: tuple[str, ...] = ()
