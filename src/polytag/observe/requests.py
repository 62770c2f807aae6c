"""What one app sees of its requests: every vendor call and native / control request counted,
timed and logged in one line (`event: request`), and `/metrics` to read the counts.

Vendor calls are the hot path: `vendor()` is two dict lookups, the cached label children and one
`isEnabledFor` when request lines are off. Other requests go through `Observed`, a pure ASGI
middleware that reads the matched route's template after the app answered."""

from __future__ import annotations

import logging
import time
import uuid
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from polytag.admin import authorized
from polytag.errors import Unavailable
from polytag.observe.metrics import CONTENT_TYPE, OTHER, IndexCounters, Metrics, ResidentCounters

if TYPE_CHECKING:
    from polytag.dialects import Call, Dialect

log = logging.getLogger("polytag.requests")
INFO = logging.INFO
MAX_PATH = 200  # logged paths are cut here (an unknown path is whatever the client sent)


def front_of(path: str) -> str | None:
    """Which front end a non-vendor path belongs to (None: not observed, e.g. /metrics itself)."""
    if path.startswith("/_polytag/"):
        return "control"
    if path.startswith("/console"):
        return "console"  # logged, not counted: the console is a page, not an API
    return None if path == "/metrics" else "native"


def route_template(scope: Scope) -> str:
    """The matched route's template, full path (`/v1/apps/{app}/tags/{tag}`), or "other".

    A router nested under a prefix (FastAPI's included `/v1` router) records its route's own
    template: the prefix is the request path minus as many trailing segments as that template has
    (our templates have one segment per parameter; a `{x:path}` one is not ours: "other")."""
    template = getattr(scope.get("route"), "path", "")  # the api's Mount("/") has "": no endpoint matched
    if not template or ":path}" in template:
        return OTHER
    depth = template.count("/")
    path: str = scope["path"]
    if path.count("/") < depth:
        return OTHER
    return path.rsplit("/", depth)[0] + template


class Observer:
    """The metrics and request lines of one app (create_app makes one per app)."""

    def __init__(self, index: IndexCounters | None = None, resident: ResidentCounters | None = None) -> None:
        self.metrics = Metrics(index, resident)
        self._routes: dict[str, dict[str, str]] = {}  # dialect -> endpoint path -> route label

    # vendor calls ------------------------------------------------------------
    def vendor(self, call: Call, status: int, payload: Any, seconds: float) -> None:
        """A dialect call observer (see polytag.dialects._dispatch)."""
        name = call.dialect.name
        routes = self._routes.get(name) or self._learn(call.dialect)
        code = call.dialect.code_of(payload)  # the vendor's code, read as the dialect says
        self.metrics.record(name, routes.get(call.endpoint.path, OTHER), code, status, seconds)
        if call.error is not None:
            self._failed(call, call.error)
        if log.isEnabledFor(INFO):
            extra = {"event": "request", "rid": call.rid, "dialect": name,
                     "path": str(call.scope["path"])[:MAX_PATH], "method": call.method, "status": status,
                     "code": code, "ms": round(seconds * 1000, 3)}
            if call.app is not None:
                extra["app"] = call.app.name
            log.info("request", extra=extra)

    def _learn(self, dialect: Dialect) -> dict[str, str]:
        routes = self._routes[dialect.name] = {ep.path: f"{dialect.prefix}/{ep.path}"
                                               for ep in dialect.endpoints}
        return routes

    def _failed(self, call: Call, exc: BaseException) -> None:
        from polytag.dialects import _expected

        if isinstance(exc, Unavailable):  # an expected error, but an operator's problem
            self.metrics.error(call.dialect.name, "unavailable")
            log.error("store unavailable: %s", exc, extra={"event": "error", "rid": call.rid,
                                                           "dialect": call.dialect.name})
        elif not _expected(exc):  # the dialect logged the traceback with the rid
            self.metrics.error(call.dialect.name, "unexpected")

    # native API, control plane ------------------------------------------------
    def web(self, front: str, scope: Scope, status: int, seconds: float, rid: str, raised: bool) -> None:
        path = route_template(scope)
        code = 0 if status < 400 else status
        if front != "console":
            self.metrics.record(front, path, code, status, seconds)
            if raised or status >= 500:
                self.metrics.error(front, "unavailable" if status == 503 and not raised else "unexpected")
        if log.isEnabledFor(INFO):
            extra = {"event": "request", "rid": rid, "dialect": front, "path": str(scope["path"])[:MAX_PATH],
                     "method": scope["method"], "status": status, "code": code, "ms": round(seconds * 1000, 3)}
            app = scope.get("path_params", {}).get("app")
            if isinstance(app, str):
                extra["app"] = app
            log.info("request", extra=extra)

    def around(self, app: ASGIApp) -> ASGIApp:
        return Observed(app, self)

    # /metrics ----------------------------------------------------------------
    def route(self, admin_key: str | None) -> Route:
        """`GET /metrics`: the Prometheus text format; Bearer admin key when one is set."""

        async def metrics(request: Request) -> Response:
            if not authorized(request.headers, admin_key):
                return JSONResponse({"error": "admin key required: Authorization: Bearer <key>"},
                                    status_code=401, headers={"WWW-Authenticate": "Bearer"})
            return Response(self.metrics.exposition(), media_type=CONTENT_TYPE)

        return Route("/metrics", metrics, methods=["GET"])


class Observed:
    """Pure ASGI middleware over the non-vendor routes: times the request, captures the status,
    adds `x-request-id`, then hands both to the Observer (also when the app raised)."""

    def __init__(self, app: ASGIApp, observer: Observer) -> None:
        self.app, self.observer = app, observer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        front = front_of(scope["path"]) if scope["type"] == "http" else None
        if front is None:
            await self.app(scope, receive, send)
            return
        rid = uuid.uuid4().hex
        status = 0

        async def answer(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), (b"x-request-id", rid.encode())]}
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, answer)
        except Exception:
            self.observer.web(front, scope, status or 500, time.perf_counter() - started, rid, True)
            raise
        self.observer.web(front, scope, status, time.perf_counter() - started, rid, False)

