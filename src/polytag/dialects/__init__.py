"""Dialects: vendor wire formats over the one Service. Every subpackage exporting DIALECT is mounted.

A dialect is data: its prefix, its endpoints (vendor action names verbatim), how a call is
authenticated, how an error is rendered, and its limits preset. The mount below is the only
place that turns HTTP into a `Call` and a handler's result or error back into bytes.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from polytag.core.limits import Limits
from polytag.core.models import App
from polytag.core.service import Service
from polytag.dialects import _wire

log = logging.getLogger("polytag.dialects")


class VendorError(Exception):
    """An error that only exists on the wire of one dialect (bad envelope, missing credential)."""

    def __init__(self, code: int, detail: str = "") -> None:
        super().__init__(f"{code} {detail}".strip())
        self.code = code
        self.detail = detail


@dataclass
class Call:
    """One vendor call in flight: what came in, who it is for, and the service to ask."""

    request: Request
    service: Service
    dialect: Dialect
    endpoint: Endpoint
    body: bytes
    rid: str
    app: App | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def query(self) -> Mapping[str, str]:
        return self.request.query_params

    @property
    def method(self) -> str:
        return self.request.method


Handler = Callable[[Call], Awaitable[Any]]


@dataclass(frozen=True)
class Endpoint:
    path: str  # below the dialect's prefix, e.g. "tags/members/batchtagging"
    methods: tuple[str, ...]
    handler: Handler
    auth: bool = True  # the token-issuing endpoints are the listed exceptions


@dataclass(frozen=True)
class Dialect:
    name: str
    prefix: str
    endpoints: Sequence[Endpoint]
    limits: Limits
    authenticate: Callable[[Call], Awaitable[App]]
    render_error: Callable[[BaseException, Call], tuple[int, Any]]
    wrong_method: Callable[[Endpoint], BaseException]
    unknown_path: Callable[[str], BaseException]
    seed_app: Callable[[Service, Mapping[str, Any]], App]
    new_rid: Callable[[], str]
    content_type: str = "application/json"


def discover() -> dict[str, Dialect]:
    """Every subpackage of this package that exports DIALECT, by name."""
    found: dict[str, Dialect] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        dialect = getattr(module, "DIALECT", None)
        if isinstance(dialect, Dialect):
            found[dialect.name] = dialect
    return found


def presets(dialects: Mapping[str, Dialect]) -> dict[str, Limits]:
    return {name: d.limits for name, d in dialects.items()}


ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def routes(dialect: Dialect, service: Service) -> list[BaseRoute]:
    """Starlette routes for every endpoint, plus a catch-all that answers in the vendor's words."""
    out: list[BaseRoute] = []
    for ep in dialect.endpoints:
        out.append(Route(f"{dialect.prefix}/{ep.path}", _asgi(dialect, ep, service), methods=ALL_METHODS))
    out.append(Route(dialect.prefix + "/{rest:path}", _unknown(dialect, service), methods=ALL_METHODS))
    return out


def _respond(dialect: Dialect, status: int, body: Any, rid: str) -> Response:
    return Response(_wire.dumps(body), status_code=status, media_type=dialect.content_type,
                    headers={"x-request-id": rid})


async def _dispatch(dialect: Dialect, ep: Endpoint, service: Service, request: Request) -> Response:
    call = Call(request, service, dialect, ep, await request.body(), dialect.new_rid())
    try:
        if request.method not in ep.methods and not (request.method == "HEAD" and "GET" in ep.methods):
            raise dialect.wrong_method(ep)
        if ep.auth:
            call.app = await dialect.authenticate(call)
        result = await ep.handler(call)
        return _respond(dialect, 200, result, call.rid)
    except Exception as exc:  # every failure becomes the vendor's envelope, never a bare 500
        if not isinstance(exc, VendorError) and not _expected(exc):
            log.exception("unexpected error in %s %s rid=%s", dialect.name, ep.path, call.rid)
        status, body = dialect.render_error(exc, call)
        return _respond(dialect, status, body, call.rid)


def _expected(exc: BaseException) -> bool:
    from polytag.errors import PolytagError

    return isinstance(exc, PolytagError | _wire.BadJSON)


def _asgi(dialect: Dialect, ep: Endpoint, service: Service) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await _dispatch(dialect, ep, service, request)

    endpoint.__name__ = f"{dialect.name}:{ep.path}"
    return endpoint


def _unknown(dialect: Dialect, service: Service) -> Callable[[Request], Awaitable[Response]]:
    async def unknown(request: Request) -> Response:
        path = request.path_params.get("rest", "")

        async def fail(call: Call) -> Any:
            raise dialect.unknown_path(path)

        ep = Endpoint(path, (request.method,), fail, auth=False)
        return await _dispatch(dialect, ep, service, request)

    return unknown
