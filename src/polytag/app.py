"""create_app(settings): open the store, build the Service, mount every dialect, observe them all."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
from collections.abc import AsyncIterator, Mapping

from starlette.applications import Starlette
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from polytag import dialects, seed
from polytag.config import Settings
from polytag.core.resident import MB, Resident
from polytag.core.service import Service
from polytag.dialects import _http
from polytag.errors import LimitExceeded
from polytag.guard import AdminGuard, Policy, too_large
from polytag.observe.requests import Observer
from polytag.store import open_store


def build_service(settings: Settings) -> tuple[Service, dict[str, dialects.Dialect]]:
    found = dialects.discover()
    store = open_store(settings.db)
    budget = settings.index_memory_mb * MB if settings.index_memory_mb else None
    service = dialects.build_service(store, found, id_seed=settings.id_seed, index_memory=budget)
    for path in settings.seeds:
        seed.apply(service, seed.load(path), found)
    return service, found


FRONT_ENDS = ("polytag.control", "polytag.console", "polytag.api")  # in routing order


def create_app(
    settings: Settings, service: Service | None = None, close_store: bool | None = None
) -> PrefixDispatch:
    """The ASGI app. It closes the store at shutdown when it opened it (or `close_store`)."""
    found = dialects.discover()
    owns = service is None if close_store is None else close_store
    if service is None:
        service, found = build_service(settings)
    svc = service

    observer = Observer(svc.memberships, svc.resident)  # this app's metrics registry and request log
    routes: list[BaseRoute] = [observer.route(settings.admin_key)]  # GET /metrics
    for front_end in FRONT_ENDS:  # each module exposes routes(service, settings, dialects)
        try:
            module = importlib.import_module(front_end)
        except ModuleNotFoundError as exc:
            if exc.name != front_end:
                raise
            continue
        routes += module.routes(svc, settings, found)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        svc.store.attach_loop(asyncio.get_running_loop())
        try:
            yield
        finally:
            await svc.store.detach_loop()
            if owns:
                svc.store.close()

    rest = Starlette(routes=routes, lifespan=lifespan)
    rest.state.service = svc
    rest.state.dialects = found
    cap = settings.max_body_bytes
    prefixes: dict[str, ASGIApp] = {prefix + "/": dialects.DialectApp(mounted, svc, cap, observer.vendor)
                                    for prefix, mounted in dialects.by_prefix(found).items()}
    prefixes["/_polytag/noop"] = noop(cap)
    return PrefixDispatch(prefixes, rest, observer, AdminGuard(rest, Policy.of(settings)))


def noop(cap: int | None = None) -> ASGIApp:
    """Reads the body and answers a fixed ack through the same lean path as vendor calls:
    the HTTP stack's own cost, which benchmarks compare vendor endpoints against. A body past
    `cap` gets 413 (read no further than the cap plus one chunk)."""
    ack = b'{"errcode":0,"errmsg":"ok"}'

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await _http.read_body(receive, cap, _http.declared_length(scope))
        except LimitExceeded as exc:
            await _http.send_bytes(send, 413, json.dumps({"error": too_large(exc)}).encode(), "application/json")
            return
        await _http.send_bytes(send, 200, ack, "application/json")

    return app


class Pinning:
    """The extent of a native (or control, console) request: the apps it names stay resident
    until it has answered (polytag.api.deps.app_of pins them; vendor calls pin their own)."""

    def __init__(self, app: ASGIApp, resident: Resident) -> None:
        self.app = app
        self.resident = resident

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with self.resident.request():
            await self.app(scope, receive, send)


class PrefixDispatch:
    """Vendor prefixes (and the noop) go straight to their app; everything else, the admin
    surfaces, to the Starlette app through the guard (polytag.guard) and the observer's middleware."""

    def __init__(self, prefixes: Mapping[str, ASGIApp], rest: Starlette, observer: Observer | None = None,
                 guarded: ASGIApp | None = None) -> None:
        self.prefixes = {"/_polytag/noop": noop(), **prefixes}
        inner = rest if guarded is None else guarded  # `rest` behind polytag.guard's AdminGuard
        pinning = Pinning(inner, rest.state.service.resident)
        self.rest: ASGIApp = pinning if observer is None else observer.around(pinning)
        self.state = rest.state
        self.observer = observer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            for prefix, app in self.prefixes.items():
                if path.startswith(prefix):
                    await app(scope, receive, send)
                    return
        await self.rest(scope, receive, send)
