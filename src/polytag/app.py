"""create_app(settings): open the store, build the Service, mount every dialect."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from polytag import __version__, dialects, seed
from polytag.config import Settings
from polytag.core.service import Service
from polytag.store import open_store


def build_service(settings: Settings) -> tuple[Service, dict[str, dialects.Dialect]]:
    found = dialects.discover()
    store = open_store(settings.db)
    service = Service(store, dialects.presets(found), id_seed=settings.id_seed)
    for path in settings.seeds:
        seed.apply(service, seed.load(path), found)
    return service, found


def create_app(settings: Settings, service: Service | None = None, close_store: bool | None = None) -> Starlette:
    """The ASGI app. It closes the store at shutdown when it opened it (or `close_store`)."""
    found = dialects.discover()
    owns = service is None if close_store is None else close_store
    if service is None:
        service, found = build_service(settings)
    svc = service

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "version": __version__, "backend": svc.store.backend,
                             "dialects": sorted(found)})

    async def noop(request: Request) -> Response:
        """Reads the body and answers a fixed ack: the HTTP stack's own cost, for benchmarks."""
        await request.body()
        return Response(b'{"errcode":0,"errmsg":"ok"}', media_type="application/json")

    routes: list[BaseRoute] = [
        Route("/_polytag/health", health),
        Route("/_polytag/noop", noop, methods=["POST"]),
    ]
    for d in found.values():
        routes += dialects.routes(d, svc)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        svc.store.attach_loop(asyncio.get_running_loop())
        try:
            yield
        finally:
            await svc.store.detach_loop()
            if owns:
                svc.store.close()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.service = svc
    app.state.dialects = found
    return app
