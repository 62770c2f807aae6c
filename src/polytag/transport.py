"""The SDKs' HTTP clients: `httpx.Client` to a URL, or to an ASGI app in this process.

In process, the app runs on an event loop in a thread of its own (anyio's blocking portal, the
primitive starlette's own test client is built on), its lifespan open from the client's start to
its `close()` (asgi-lifespan), and every request goes through `httpx.ASGITransport`. That
transport is async only; `InProcessTransport` is the sync seam over it, so the same synchronous
SDK code runs against a URL and in process. The call comes from `127.0.0.1` to `localhost`, as
a local caller would (polytag.guard). An answer is read whole before it is handed over: a
streamed export arrives in one piece in process.

A server in a thread (uvicorn on port 0) would also do, but costs a socket and a port per client
and the HTTP parsing on both sides; no network is needed to call an app in the same process.
"""

from __future__ import annotations

import contextlib
import weakref
from typing import Any

import httpx

LOCAL_PEER = ("127.0.0.1", 50000)  # where an in-process call comes from (a loopback peer)
IN_PROCESS_URL = "http://localhost"  # a loopback name: the admin surfaces answer it
LIFESPAN_TIMEOUT_S = 60.0


class InProcessTransport(httpx.BaseTransport):
    """A sync httpx transport to an ASGI app in this process (see the module's docstring)."""

    def __init__(self, app: Any, client: tuple[str, int] = LOCAL_PEER) -> None:
        from anyio.from_thread import start_blocking_portal

        self._stack = contextlib.ExitStack()
        self._portal = self._stack.enter_context(start_blocking_portal())
        try:
            lifespan = self._portal.call(_lifespan_of, app)
            manager = self._stack.enter_context(self._portal.wrap_async_context_manager(lifespan))
        except BaseException:
            self._stack.close()
            raise
        self._asgi = httpx.ASGITransport(manager.app, raise_app_exceptions=False, client=client)
        # a client never closed still ends the lifespan, when collected or at exit at the latest
        # (the portal's loop is gone once the interpreter finalizes: closing then would hang)
        self._finalizer = weakref.finalize(self, self._stack.close)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._asgi is None:
            raise httpx.ConnectError("the in-process client is closed", request=request)
        request.read()  # the body as bytes: one stream that reads sync and async alike
        return self._portal.call(self._send, request)

    async def _send(self, request: httpx.Request) -> httpx.Response:
        assert self._asgi is not None
        answer = await self._asgi.handle_async_request(request)
        raw = b"".join([part async for part in answer.stream])  # type: ignore[union-attr]
        return httpx.Response(answer.status_code, headers=answer.headers, content=raw)

    def close(self) -> None:
        """End the app's lifespan and its event loop (idempotent)."""
        self._asgi = None  # type: ignore[assignment]
        self._finalizer()


async def _lifespan_of(app: Any) -> Any:
    """Built on the portal's loop: asgi-lifespan picks its concurrency backend where it is built."""
    from asgi_lifespan import LifespanManager

    return LifespanManager(app, startup_timeout=LIFESPAN_TIMEOUT_S, shutdown_timeout=LIFESPAN_TIMEOUT_S)


def http_client(base_url: str | None = None, admin_key: str | None = None, *, app: Any = None,
                timeout: float = 60.0, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """An `httpx.Client` with the admin key: to `base_url`, or to `app` in this process."""
    headers = {"Authorization": f"Bearer {admin_key}"} if admin_key else {}
    if app is not None:
        if transport is not None:
            raise ValueError("give an app or a transport, not both")
        return httpx.Client(base_url=IN_PROCESS_URL, headers=headers, transport=InProcessTransport(app),
                            timeout=timeout)
    if not base_url:
        raise ValueError("a base URL (such as http://127.0.0.1:8080) or an app is required")
    try:
        url = httpx.URL(base_url)
    except httpx.InvalidURL as exc:
        raise ValueError(f"not a URL: {base_url!r} ({exc})") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"not an http(s) URL with a host: {base_url!r}")
    return httpx.Client(base_url=base_url, headers=headers, transport=transport, timeout=timeout)
