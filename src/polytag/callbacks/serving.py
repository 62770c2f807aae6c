"""Serving a developer's own callback handler on a free loopback port, for tests: an ASGI app
(FastAPI, Starlette) under uvicorn, or a WSGI app (Flask) under wsgiref, each on a thread."""

from __future__ import annotations

import inspect
import socket
import threading
import time
from collections.abc import Callable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

START_TIMEOUT_S = 10.0


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def is_asgi(app: Any) -> bool:
    call = app if inspect.isfunction(app) else getattr(app, "__call__", None)  # noqa: B004
    return inspect.iscoroutinefunction(call)


class Served:
    """A handler served on 127.0.0.1 at a free port until `stop()`; `url(path)` to reach it."""

    def __init__(self, app: Any) -> None:
        self.port = 0
        self._stop: Callable[[], None] = lambda: None
        (self._asgi if is_asgi(app) else self._wsgi)(app)

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def _asgi(self, app: Any) -> None:
        import uvicorn

        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the callback handler did not start")
            time.sleep(0.01)

        def stop() -> None:
            server.should_exit = True
            thread.join(START_TIMEOUT_S)
            sock.close()

        self._stop = stop

    def _wsgi(self, app: Any) -> None:
        server: WSGIServer = make_server("127.0.0.1", 0, app, handler_class=_QuietHandler)
        self.port = server.server_port
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()

        def stop() -> None:
            server.shutdown()
            server.server_close()
            thread.join(START_TIMEOUT_S)

        self._stop = stop

    def stop(self) -> None:
        self._stop()
