"""Dialects: vendor wire formats over the one Service. Every subpackage exporting DIALECT is mounted.

A dialect is data: its prefix, its endpoints (vendor action names verbatim), how a call is
authenticated, how an error is rendered, and its limits preset. The mount below is the only
place that turns HTTP into a `Call` and a handler's result or error back into bytes.
"""

from __future__ import annotations

import functools
import importlib
import logging
import pkgutil
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from polytag.core.limits import Limits
from polytag.core.models import App
from polytag.core.service import Service
from polytag.dialects import _wire
from polytag.errors import LimitExceeded

log = logging.getLogger("polytag.dialects")


UNSET: Any = object()


class VendorError(Exception):
    """An error that only exists on the wire of one dialect (bad envelope, missing credential)."""

    def __init__(self, code: int, detail: str = "") -> None:
        super().__init__(f"{code} {detail}".strip())
        self.code = code
        self.detail = detail


@dataclass
class Call:
    """One vendor call in flight: what came in, who it is for, and the service to ask."""

    scope: Scope
    service: Service
    dialect: Dialect
    endpoint: Endpoint
    body: bytes
    rid: str
    query: Mapping[str, str]
    app: App | None = None
    app_hint: Any = UNSET  # the app the call names before it is authenticated (polytag.control)
    token_row: Any = None  # its access token's row, when the app hint was read with it (Tokens.with_app)
    error: BaseException | None = None  # what the answer rendered, when it is an error
    answer: bytes = b""  # the answer's bytes, once encoded (observers read them)

    @property
    def method(self) -> str:
        return str(self.scope["method"])

    @property
    def request(self) -> Request:
        """The starlette view of the request (headers, client, ...), made on demand."""
        return Request(self.scope)

    async def admit(self, app: App) -> None:
        """The caller proved it speaks for `app` (a valid token, or the right secret at a token
        endpoint): remember the app, then run the service's auth interceptors, which count what
        the vendor counts per app (daily quotas) and may refuse the call. Nothing a caller does
        before this point is charged to an app."""
        self.app = app
        for intercept in self.service.auth_interceptors:
            failure = await intercept(self)
            if failure is not None:
                raise failure


Handler = Callable[[Call], Awaitable[Any]]
Observer = Callable[[Call, int, Any, float], None]  # (call, status, payload, seconds)


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
    callbacks: Any = None  # its pushes to the developer's server: a polytag.callbacks.CallbackFace


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


class DialectApp:
    """The ASGI app behind a dialect's prefix: one dict lookup per call, the vendor's envelope out.

    It is deliberately lean (no regex routing, no per-request middleware): vendor calls are the
    hot path, and the HTTP stack's own cost is what the benchmarks compare against.
    """

    def __init__(self, dialect: Dialect, service: Service, max_body: int | None = None,
                 observe: Observer | None = None) -> None:
        self.dialect, self.service = dialect, service
        self.table = {ep.path: ep for ep in dialect.endpoints}
        self.skip = len(dialect.prefix) + 1
        self.max_body = max_body  # bytes; None: no cap
        self.observe = observe  # this app's metrics and request log (polytag.observe)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"][self.skip:]
        ep = self.table.get(path)
        if ep is None:
            ep = Endpoint(path, (scope["method"],), self._unknown, auth=False)
        try:
            body = await read_body(receive, self.max_body, declared_length(scope))
        except LimitExceeded as exc:  # answered before method and auth, in the dialect's envelope
            body, ep = b"", Endpoint(ep.path, (scope["method"],), _refuse(exc), auth=False)
        status, answer, rid = await _dispatch(self.dialect, ep, self.service, scope, body, self.observe)
        await send_bytes(send, status, answer, self.dialect.content_type, rid)

    async def _unknown(self, call: Call) -> Any:
        raise self.dialect.unknown_path(call.endpoint.path)


def _refuse(exc: BaseException) -> Handler:
    async def refuse(call: Call) -> Any:
        raise exc

    return refuse


def declared_length(scope: Scope) -> int | None:
    """The request's Content-Length header, when present and a number."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def read_body(receive: Receive, limit: int | None = None, declared: int | None = None) -> bytes:
    """The whole request body; past `limit` bytes it stops reading (holding at most the cap plus
    one chunk) and raises LimitExceeded("body_bytes", size so far, limit)."""
    if limit is not None and declared is not None and declared > limit:
        raise LimitExceeded("body_bytes", declared, limit)
    chunks = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if limit is not None and size > limit:
            raise LimitExceeded("body_bytes", size, limit)
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def send_bytes(send: Send, status: int, content: bytes, content_type: str, rid: str = "") -> None:
    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(content)).encode())]
    if rid:
        headers.append((b"x-request-id", rid.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})


def parse_query(raw: bytes) -> tuple[Mapping[str, str], bool]:
    """(the query as a read-only mapping, the last of repeated keys winning; whether a store
    can hold every value)."""
    query = dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True))
    return MappingProxyType(query), all(map(_wire.storable_text, query.values()))


# A client sends the same query again and again (its access_token), so recent ones are
# remembered; only short queries of few parameters, so the cache's memory is bounded in bytes
# (QUERY_CACHE_SIZE x about 4 KiB at most), never by what clients choose to send.
QUERY_CACHE_BYTES, QUERY_CACHE_PARAMS, QUERY_CACHE_SIZE = 1024, 16, 1024
_cached_query = functools.lru_cache(maxsize=QUERY_CACHE_SIZE)(parse_query)


def _parse_query(raw: bytes) -> tuple[Mapping[str, str], bool]:
    if len(raw) > QUERY_CACHE_BYTES or raw.count(b"&") >= QUERY_CACHE_PARAMS:
        return parse_query(raw)
    return _cached_query(raw)


async def _dispatch(
    dialect: Dialect, ep: Endpoint, service: Service, scope: Scope, body: bytes,
    observe: Observer | None = None,
) -> tuple[int, bytes, str]:
    """(status, the answer's bytes, rid); the observers see the call once it is answered."""
    query, storable = _parse_query(scope.get("query_string", b""))
    call = Call(scope, service, dialect, ep, body, dialect.new_rid(), query)
    started = time.perf_counter()
    status, payload = await _answer(call, storable)
    seconds = time.perf_counter() - started
    call.answer = _wire.dumps(payload)
    observers = service.call_observers if observe is None else [observe, *service.call_observers]
    for observer in observers:  # metrics and the request log, the request journal
        try:
            observer(call, status, payload, seconds)
        except Exception:
            log.exception("call observer failed", extra={"rid": call.rid})
    return status, call.answer, call.rid


async def _answer(call: Call, storable: bool) -> tuple[int, Any]:
    dialect, ep, method = call.dialect, call.endpoint, call.method
    try:
        if not storable:
            raise _wire.BadJSON("query parameter holds NUL or a lone surrogate")
        for intercept in call.service.call_interceptors:  # injected faults: before anything else
            failure = await intercept(call)
            if failure is not None:
                raise failure
        if method not in ep.methods and not (method == "HEAD" and "GET" in ep.methods):
            raise dialect.wrong_method(ep)
        if not ep.auth:  # the token endpoints admit the app once its secret matched
            return 200, await ep.handler(call)
        await call.admit(await dialect.authenticate(call))
        assert call.app is not None
        with call.service.resident.pinned(call.app.id):  # its index stays while the call runs
            return 200, await ep.handler(call)
    except Exception as exc:  # every failure becomes the vendor's envelope, never a bare 500
        call.error = exc
        if not _expected(exc):
            log.exception("unexpected error in %s %s rid=%s", dialect.name, ep.path, call.rid,
                          extra={"event": "error", "rid": call.rid, "dialect": dialect.name,
                                 "path": f"{dialect.prefix}/{ep.path}"})
        return dialect.render_error(exc, call)


def _expected(exc: BaseException) -> bool:
    from polytag.errors import PolytagError

    return isinstance(exc, PolytagError | VendorError | _wire.BadJSON)
