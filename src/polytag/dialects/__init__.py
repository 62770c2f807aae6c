"""Dialects: vendor wire formats over the one Service. Every subpackage exporting DIALECT is mounted.

A dialect is data (the `Dialect` record): its prefix, its endpoints (vendor action names
verbatim), how a call is authenticated, how an error is rendered, its limits preset, and every
other way the vendor reaches the rest of the house (the state it adds to the core, how the
control plane finds a call's app, the code its answers carry, its test fixtures, CLI commands
and console hints). The mount below is the only place that turns HTTP into a `Call` and a
handler's result or error back into bytes; several dialects may share one prefix.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from polytag.core.limits import Limits
from polytag.core.models import App
from polytag.core.parts import PartsFactory
from polytag.core.service import Service
from polytag.dialects import _wire
from polytag.dialects._http import _parse_query, declared_length, read_body, send_bytes
from polytag.errors import LimitExceeded, PolytagError

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
    token_row: Any = UNSET  # (its access token's row, the token's app) or None, once read (token_owner)
    error: BaseException | None = None  # what the answer rendered, when it is an error
    answer: bytes = b""  # the answer's bytes, once encoded (observers read them)

    @property
    def method(self) -> str:
        return str(self.scope["method"])

    @property
    def request(self) -> Request:
        """The starlette view of the request (headers, client, ...), made on demand."""
        return Request(self.scope)

    def token_owner(self, param: str = "access_token") -> tuple[Any, App] | None:
        """(the row, the app) of the token in query parameter `param`, read once per call
        whoever asks first (the control plane's app hint, the dialect's authentication)."""
        if self.token_row is UNSET:
            token = self.query.get(param)
            self.token_row = self.service.tokens.owner(token) if token else None
        owner: tuple[Any, App] | None = self.token_row
        return owner

    async def token_owner_now(self, param: str = "access_token") -> tuple[Any, App] | None:
        """`token_owner` for authentication: on PostgreSQL from the exact copy checked against the
        database's generation off the event loop (`Tokens.owner_now`), unless already read."""
        if self.token_row is UNSET:
            token = self.query.get(param)
            self.token_row = await self.service.tokens.owner_now(token) if token else None
        owner: tuple[Any, App] | None = self.token_row
        return owner

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


def no_hint(call: Call) -> App | None:
    """A dialect whose calls name their app by `?appid=` (or name none)."""
    name = call.query.get("appid")
    return call.service.apps.get(name) if name else None


def errcode_of(payload: Any) -> int:
    """`errcode` of a JSON object answer; 0 when it carries none (a success)."""
    if type(payload) is dict:
        code = payload.get("errcode")
        return code if type(code) is int else 0
    return 0


@dataclass(frozen=True)
class Console:
    """What the admin console shows differently per dialect (served in the app JSON).

    `grouped`: tags live in groups (the console offers group forms even when there is none yet);
    `hue`: the colour of the dialect's badge, one of console.css's `hue-*` classes."""

    grouped: bool = False
    hue: str = "grey"


@dataclass(frozen=True)
class Dialect:
    """Everything through which one vendor reaches the rest of the house (docs/architecture.md)."""

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
    # the state the dialect adds to the core, built from explicit deps (service.parts[name])
    parts: PartsFactory | None = None
    # the app a call names before it is authenticated (the control plane's faults, quotas, journal)
    app_hint: Callable[[Call], App | None] = no_hint
    # the vendor's error codes (errors.py's table): what a fault may inject
    codes: Mapping[int, Any] = field(default_factory=dict)
    # the vendor code an answer carries (metrics, request log, journal)
    code_of: Callable[[Any], int] = errcode_of
    # a seed entry with fresh credentials for `polytag_app(name)`, from a unique tag
    fixture_entry: Callable[[str], dict[str, Any]] | None = None
    # which keys of a seed entry hold the app's name and its credential
    seed_keys: tuple[str, str] = ("name", "secret")
    # the app name a seed entry makes (default: the value of its name key, as text)
    entry_name: Callable[[Mapping[str, Any]], str] | None = None
    # the module of the dialect's pytest fixtures and client helpers (registered by polytag.testing)
    testing: str | None = None
    # extra `polytag` CLI commands (click commands), registered by polytag.cli
    commands: Sequence[Any] = ()
    console: Console = field(default_factory=Console)
    # its pushes to the developer's server (event shapes, handshake): a polytag.callbacks.CallbackFace
    callbacks: Any = None

    def name_of(self, entry: Mapping[str, Any]) -> str:
        """The app name a seed entry of this dialect makes."""
        return self.entry_name(entry) if self.entry_name else str(entry[self.seed_keys[0]])


def from_errors(errors: ModuleType) -> dict[str, Any]:
    """The record fields a dialect's errors.py supplies, by the names it gives them: its one
    renderer `render` (render_error), `wrong_method`, `unknown_path`, `new_rid`, and its table
    `MESSAGES` (codes). `Dialect(..., **from_errors(errors))`."""
    return {"render_error": errors.render, "wrong_method": errors.wrong_method,
            "unknown_path": errors.unknown_path, "new_rid": errors.new_rid, "codes": errors.MESSAGES}


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


def part_factories(dialects: Mapping[str, Dialect]) -> dict[str, PartsFactory]:
    """What a Service builds into `service.parts`, by dialect name."""
    return {name: d.parts for name, d in dialects.items() if d.parts is not None}


def build_service(store: Any, dialects: Mapping[str, Dialect], **kw: Any) -> Service:
    """A Service with every dialect's limits preset and parts."""
    return Service(store, presets(dialects), parts=part_factories(dialects), **kw)


def by_prefix(dialects: Mapping[str, Dialect]) -> dict[str, list[Dialect]]:
    """The dialects mounted on each prefix, in registration order (several may share one)."""
    out: dict[str, list[Dialect]] = {}
    for dialect in dialects.values():
        out.setdefault(dialect.prefix, []).append(dialect)
    return out


def endpoint_table(dialects: Sequence[Dialect]) -> dict[str, tuple[Dialect, Endpoint]]:
    """One table for every dialect on a prefix; a path two of them claim is a startup error."""
    table: dict[str, tuple[Dialect, Endpoint]] = {}
    for dialect in dialects:
        for ep in dialect.endpoints:
            if ep.path in table:
                raise ValueError(f"{dialect.prefix}/{ep.path} is claimed by both {table[ep.path][0].name!r} "
                                 f"and {dialect.name!r}")
            table[ep.path] = (dialect, ep)
    return table


class DialectApp:
    """The ASGI app behind a prefix: one dict lookup per call, the owning vendor's envelope out.

    Several dialects may share a prefix (their endpoint tables merge; `endpoint_table`). A path
    nobody claims is answered by the dialect of the app the call's `access_token` belongs to,
    when it resolves, else by the first dialect registered for the prefix.

    It is deliberately lean (no regex routing, no per-request middleware): vendor calls are the
    hot path, and the HTTP stack's own cost is what the benchmarks compare against.
    """

    def __init__(self, dialects: Dialect | Sequence[Dialect], service: Service, max_body: int | None = None,
                 observe: Observer | None = None) -> None:
        mounted = [dialects] if isinstance(dialects, Dialect) else list(dialects)
        if not mounted or len({d.prefix for d in mounted}) != 1:
            raise ValueError("a DialectApp mounts one or more dialects of one prefix")
        self.dialects, self.dialect, self.service = mounted, mounted[0], service
        self.by_name = {d.name: d for d in mounted}
        self.table = endpoint_table(mounted)
        self.skip = len(self.dialect.prefix) + 1
        self.max_body = max_body  # bytes; None: no cap
        self.observe = observe  # this app's metrics and request log (polytag.observe)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"][self.skip:]
        found = self.table.get(path)
        if found is None:
            dialect = self._owner(scope)
            ep = Endpoint(path, (scope["method"],), _unknown(dialect), auth=False)
        else:
            dialect, ep = found
        try:
            body = await read_body(receive, self.max_body, declared_length(scope))
        except LimitExceeded as exc:  # answered before method and auth, in the dialect's envelope
            body, ep = b"", Endpoint(ep.path, (scope["method"],), _refuse(exc), auth=False)
        status, answer, rid = await _dispatch(dialect, ep, self.service, scope, body, self.observe)
        await send_bytes(send, status, answer, dialect.content_type, rid)

    def _owner(self, scope: Scope) -> Dialect:
        """Who answers a path nobody claims: the dialect of the access token's app, else the first."""
        if len(self.dialects) == 1:
            return self.dialect
        token = _parse_query(scope.get("query_string", b""))[0].get("access_token")
        if token:
            try:
                owner = self.service.tokens.owner(token)
            except PolytagError:  # a store that is down: the first dialect answers as usual
                owner = None
            if owner is not None and owner[1].dialect in self.by_name:
                return self.by_name[owner[1].dialect]
        return self.dialect


def _unknown(dialect: Dialect) -> Handler:
    async def unknown(call: Call) -> Any:
        raise dialect.unknown_path(call.endpoint.path)

    return unknown


def _refuse(exc: BaseException) -> Handler:
    async def refuse(call: Call) -> Any:
        raise exc

    return refuse


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
