"""The callback endpoints of the control plane: configuration, the URL check, simulated vendor
events, the delivery journal, flush and delivery faults (thin handlers over polytag.callbacks.hub)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from polytag.callbacks import config as cfgs
from polytag.callbacks.hub import Callbacks
from polytag.control.http import (
    BadRequest,
    body_json,
    body_object,
    guarded,
    ok,
    opt_number,
    opt_str,
    query_int,
)

P = "/_polytag"
FLUSH_MAX_S = 300.0


def _app_filter(hub: Callbacks, name: object) -> str | None:
    """An optional `app`: None (every app), or an app that sends callbacks (else 404 or 400)."""
    return hub.app(name)[0].name if name not in (None, "") else None


def _count(request: Request, key: str) -> int | None:
    got = query_int(request, key)
    if got is not None and got < 0:  # a negative limit sliced the journal from the wrong end
        raise BadRequest(f"`{key}` must be 0 or more")
    return got


Handler = Callable[[Callbacks, Request], Awaitable[Response]]


async def get_config(hub: Callbacks, request: Request) -> Response:
    app, _ = hub.app(request.query_params.get("app"))
    cfg = cfgs.of_app(app)
    return JSONResponse({"app": app.name, "callback": cfg.to_json() if cfg else None})


async def put_config(hub: Callbacks, request: Request) -> Response:
    app, face = hub.app(request.query_params.get("app"))
    cfg = hub.check(app, face, await body_json(request, None))
    await hub.configure(app, cfg)
    return JSONResponse({"app": app.name, "callback": cfg.to_json()})


async def delete_config(hub: Callbacks, request: Request) -> Response:
    app, _ = hub.app(request.query_params.get("app"))
    await hub.configure(app, None)
    return ok()


async def verify(hub: Callbacks, request: Request) -> Response:
    app, face = hub.app((await body_object(request)).get("app"))
    return JSONResponse(await hub.verify(app, face))


async def simulate(hub: Callbacks, request: Request) -> Response:
    return JSONResponse(await hub.simulate(await body_object(request)))


async def deliveries(hub: Callbacks, request: Request) -> Response:
    name = _app_filter(hub, request.query_params.get("app"))
    got = hub.journal.select(name, _count(request, "after"), _count(request, "limit"))
    return JSONResponse({"deliveries": [d.to_json() for d in got], "count": len(got),
                         "pending": hub.journal.pending(name)})


async def clear(hub: Callbacks, request: Request) -> Response:
    return ok({"cleared": hub.journal.clear(_app_filter(hub, request.query_params.get("app")))})


async def flush(hub: Callbacks, request: Request) -> Response:
    doc = await body_object(request)
    name, wait = _app_filter(hub, opt_str(doc, "app")), opt_number(doc, "timeout", 0, FLUSH_MAX_S)
    settled = await hub.deliverer.flush(name, 30.0 if wait is None else wait)
    return JSONResponse({"settled": settled, "pending": hub.journal.pending(name)})


async def faults(hub: Callbacks, request: Request) -> Response:
    return JSONResponse({"faults": [f.to_json() for f in hub.faults.all()]})


async def add_fault(hub: Callbacks, request: Request) -> Response:
    return ok(hub.faults.add(await body_object(request)).to_json(), 201)


async def clear_faults(hub: Callbacks, request: Request) -> Response:
    hub.faults.clear(request.query_params.get("app") or None)
    return ok()


ROUTES: list[tuple[str, Handler, list[str]]] = [
    ("/callbacks/config", get_config, ["GET"]), ("/callbacks/config", put_config, ["PUT"]),
    ("/callbacks/config", delete_config, ["DELETE"]), ("/callbacks/verify", verify, ["POST"]),
    ("/simulate", simulate, ["POST"]), ("/callbacks", deliveries, ["GET"]), ("/callbacks", clear, ["DELETE"]),
    ("/callbacks/flush", flush, ["POST"]), ("/callbacks/faults", faults, ["GET"]),
    ("/callbacks/faults", add_fault, ["POST"]), ("/callbacks/faults", clear_faults, ["DELETE"]),
]


def _bound(hub: Callbacks, fn: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await fn(hub, request)

    endpoint.__name__ = fn.__name__
    return endpoint


def routes(hub: Callbacks, admin_key: str | None) -> list[BaseRoute]:
    """The table's routes over `hub`, each behind the admin guard."""
    return [Route(P + path, guarded(admin_key, _bound(hub, fn)), methods=methods) for path, fn, methods in ROUTES]


__all__ = ["routes"]
