"""Connection deadlines uvicorn lacks, as a subclass of its HTTP protocol.

uvicorn closes a connection idle after a response (`timeout_keep_alive`) and answers 503 past
`limit_concurrency`, but a connection that never sends, sends half its headers, or sends its body
a byte a second is kept for as long as the client likes. Here:

- headers: a request's headers must be complete `headers_s` seconds after the connection opened
  or after the first byte of that request arrived (the keep-alive timer covers the wait before);
- body: a request's body must be complete `body_s` seconds after its headers;
- header bytes: more than `max_header_bytes` without the end of the headers is answered 431.

Either deadline closes the connection (an app still reading the body sees `http.disconnect`).
"""

from __future__ import annotations

import asyncio
from typing import Any

HEADERS_S = 10.0
BODY_S = 30.0
MAX_HEADER_BYTES = 64 * 1024
TOO_LARGE = (b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
             b"content-length: 33\r\nconnection: close\r\n\r\nrequest header fields too large\r\n")


def base_protocol() -> type[asyncio.Protocol]:
    """uvicorn's `http="auto"` choice: httptools when installed, else h11."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

        return HttpToolsProtocol
    except ImportError:  # pragma: no cover - httptools is a dependency of uvicorn[standard]
        from uvicorn.protocols.http.h11_impl import H11Protocol

        return H11Protocol


def protocol(headers_s: float = HEADERS_S, body_s: float = BODY_S,
             max_header_bytes: int = MAX_HEADER_BYTES, base: type[asyncio.Protocol] | None = None) -> type:
    """uvicorn's HTTP protocol class with the deadlines above (pass it as `Config(http=...)`)."""
    parent: Any = base or base_protocol()
    name = f"Deadlines{parent.__name__}"
    return type(name, (Deadlines, parent), {"__qualname__": name, "headers_s": headers_s, "body_s": body_s,
                                            "max_header_bytes": max_header_bytes})


class Deadlines(asyncio.Protocol):
    """The deadlines, put before one of uvicorn's HTTP protocols by `protocol` (which sets the
    three numbers); it reads the attributes uvicorn's protocols keep (loop, transport, cycle)."""

    headers_s = HEADERS_S
    body_s = BODY_S
    max_header_bytes = MAX_HEADER_BYTES
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    cycle: Any
    _header_timer: asyncio.TimerHandle | None = None
    _body_timer: asyncio.TimerHandle | None = None
    _header_bytes = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._header_timer = self.loop.call_later(self.headers_s, self._expire)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_timer()
        self._stop_body_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._state() == "headers":
            self._header_bytes += len(data)
            if self._header_timer is None:
                self._header_timer = self.loop.call_later(self.headers_s, self._expire)
        super().data_received(data)
        if self.transport.is_closing():
            return
        state = self._state()
        if state == "headers" and self._header_bytes > self.max_header_bytes:
            self.transport.write(TOO_LARGE)
            self.transport.close()
            return
        if state != "headers":
            self._stop_header_timer()
            self._header_bytes = 0
        if state == "body" and self._body_timer is None:
            self._body_timer = self.loop.call_later(self.body_s, self._expire)
        elif state != "body":
            self._stop_body_timer()

    def _state(self) -> str:
        """"headers" (waiting for a request's headers), "body" (for its body), or "app"."""
        cycle = self.cycle
        if cycle is None:
            return "headers"
        if cycle.more_body:  # also after an early answer (413): the rest still arrives
            return "body"
        return "headers" if cycle.response_complete else "app"

    def _expire(self) -> None:
        self._header_timer = self._body_timer = None
        if not self.transport.is_closing():
            self.transport.close()

    def _stop_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _stop_body_timer(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None
