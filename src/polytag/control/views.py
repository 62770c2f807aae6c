"""The `/_polytag/` endpoints: thin handlers over the ControlPlane (parse, act, answer JSON).

Each handler is `(plane, request) -> response`; `ROUTES` lists them by path and method, and
`build` binds them to one plane (behind the admin key, all but health)."""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from polytag import __version__, seed
from polytag.control import clock
from polytag.control.http import (
    BadRequest,
    Endpoint,
    body_json,
    body_object,
    guarded,
    named_app,
    ok,
    opt_int,
    opt_str,
    query_int,
)
from polytag.control.journal import Filter
from polytag.control.plane import ControlPlane
from polytag.control.snapshot import SnapshotError
from polytag.errors import NotFound

P = "/_polytag"

Handler = Callable[[ControlPlane, Request], Awaitable[Response]]


def _app_param(request: Request) -> str | None:
    """`?app=`, None when absent or empty."""
    return request.query_params.get("app") or None


def _consoles(plane: ControlPlane) -> dict[str, dict[str, Any]]:
    """What the console shows differently per dialect, from each record (polytag.dialects.Console)."""
    return {name: {"grouped": d.console.grouped, "hue": d.console.hue, "callbacks": d.callbacks is not None,
                   "callback_modes": list(d.callbacks.modes) if d.callbacks else []}
            for name, d in sorted(plane.dialects.items())}


async def health(plane: ControlPlane, request: Request) -> Response:
    return JSONResponse({"status": "ok", "version": __version__, "backend": plane.service.store.backend,
                         "dialects": sorted(plane.dialects), "console": _consoles(plane)})


# --- apps: reset, seed, snapshots ---------------------------------------------------------
async def reset(plane: ControlPlane, request: Request) -> Response:
    name = opt_str(await body_object(request), "app")
    started = time.perf_counter()
    try:
        apps = await (plane.resetter.reset_app(name) if name else plane.resetter.reset_all())
    except LookupError:
        raise BadRequest(f"no app {name!r} (neither present nor in the startup seeds)", 404) from None
    return ok({"reset": name or "all", "apps": [a.name for a in apps],
               "seconds": round(time.perf_counter() - started, 4)})


async def seed_apps(plane: ControlPlane, request: Request) -> Response:
    try:
        apps = await plane.resetter.seed(await body_json(request, None))
    except seed.SeedError as exc:
        raise BadRequest(str(exc)) from None
    return ok({"apps": [{"name": a.name, "dialect": a.dialect} for a in apps]})


async def get_snapshot(plane: ControlPlane, request: Request) -> Response:
    name = _app_param(request)
    try:
        secrets = request.query_params.get("secrets", "") in ("1", "true")  # plain-text secrets: asked for
        return JSONResponse(await plane.take_snapshot(name, secrets))
    except LookupError:
        raise BadRequest(f"no app {name!r}", 404) from None


async def post_snapshot(plane: ControlPlane, request: Request) -> Response:
    try:
        names = await plane.load_snapshot(await body_json(request, None))
    except SnapshotError as exc:
        raise BadRequest(str(exc)) from None
    except Exception as exc:  # a row the schema refuses: the document's fault, not ours
        raise BadRequest(f"snapshot does not load: {exc}") from None
    return ok({"loaded": names})


# --- the request journal ------------------------------------------------------------------
def _journal_filter(plane: ControlPlane, request: Request) -> Filter:
    """`app` may name an app since reset or dropped (the journal keeps its requests); `dialect`
    must be one this server speaks."""
    q = request.query_params
    since = q.get("since")
    if q.get("dialect") and q["dialect"] not in plane.dialects:
        raise BadRequest(f"`dialect` must be one of {', '.join(sorted(plane.dialects))}")
    return Filter(app=q.get("app") or None, dialect=q.get("dialect") or None,
                  path=q.get("path") or None, after=query_int(request, "after"),
                  since=clock.parse_instant(_num_or_str(since)) if since else None)


async def requests(plane: ControlPlane, request: Request) -> Response:
    limit = query_int(request, "limit")
    if limit is not None and limit < 0:
        raise BadRequest("`limit` must be 0 or more")
    got = plane.journal.select(_journal_filter(plane, request), limit)
    return JSONResponse({"requests": [e.to_json() for e in got], "count": len(got),
                         "size": plane.journal.size})


async def clear_requests(plane: ControlPlane, request: Request) -> Response:
    return ok({"cleared": plane.journal.clear(_app_param(request))})


async def resize_requests(plane: ControlPlane, request: Request) -> Response:
    size = opt_int(await body_object(request), "size", 1, 1_000_000)
    if size is None:
        raise BadRequest("`size` is required")
    plane.journal.resize(size)
    return ok({"size": plane.journal.size})


# --- injected faults ----------------------------------------------------------------------
async def faults(plane: ControlPlane, request: Request) -> Response:
    return JSONResponse({"faults": [f.to_json() for f in plane.faults.list()]})


def _check_fault_app(plane: ControlPlane, doc: Mapping[str, Any]) -> None:
    """A fault's `app`, when given, is an app of its dialect here (a typo would never fire)."""
    name, dialect = doc.get("app"), doc.get("dialect")
    if not isinstance(name, str) or not name or dialect not in plane.dialects:
        return  # absent, or refused by the fault's own checks
    app = named_app(plane.service.apps, name)
    if app.dialect != dialect:
        raise BadRequest(f"app {name[:100]!r} is a {app.dialect} app, not {dialect}")


async def add_fault(plane: ControlPlane, request: Request) -> Response:
    doc = await body_object(request)
    _check_fault_app(plane, doc)
    return ok(plane.faults.add(doc, plane.dialects).to_json(), 201)


async def clear_faults(plane: ControlPlane, request: Request) -> Response:
    plane.faults.clear(_app_param(request))
    return ok()


async def remove_fault(plane: ControlPlane, request: Request) -> Response:
    fault_id = request.path_params["fault_id"]
    if not plane.faults.remove(fault_id):
        raise BadRequest(f"no fault {fault_id!r}", 404)
    return ok()


# --- the clock and the daily quotas -------------------------------------------------------
async def get_clock(plane: ControlPlane, request: Request) -> Response:
    return JSONResponse(clock.state(plane.service.clock))


async def move_clock(plane: ControlPlane, request: Request) -> Response:
    return JSONResponse(clock.move(plane.service.clock, await body_object(request)))


async def quotas(plane: ControlPlane, request: Request) -> Response:
    svc, name = plane.service, request.query_params.get("app") or ""
    try:
        app = svc.apps.get(name)
    except NotFound:
        raise BadRequest(f"no app {name!r}", 404) from None
    return JSONResponse({"app": app.name, "usage": plane.quotas.usage(app, svc.clock.now())})


async def set_quotas(plane: ControlPlane, request: Request) -> Response:
    doc = await body_object(request)
    name, daily = opt_str(doc, "app"), doc.get("daily")
    if name is None or not isinstance(daily, Mapping) or not _quota_table(daily):
        raise BadRequest("expected {\"app\": NAME, \"daily\": {API: calls per day (0 = unlimited)}}")
    plane.quotas.set(name, daily)
    return ok()


# (path below P, method, handler): every route but health, behind the admin key
ROUTES: list[tuple[str, str, Handler]] = [
    ("/reset", "POST", reset), ("/seed", "POST", seed_apps),
    ("/snapshot", "GET", get_snapshot), ("/snapshot", "POST", post_snapshot),
    ("/requests", "GET", requests), ("/requests", "DELETE", clear_requests), ("/requests", "PUT", resize_requests),
    ("/faults", "GET", faults), ("/faults", "POST", add_fault), ("/faults", "DELETE", clear_faults),
    ("/faults/{fault_id}", "DELETE", remove_fault),
    ("/clock", "GET", get_clock), ("/clock", "POST", move_clock),
    ("/quotas", "GET", quotas), ("/quotas", "POST", set_quotas),
]


def build(plane: ControlPlane) -> list[BaseRoute]:
    """The routes of `ROUTES` bound to `plane`, after the open `/health`."""
    key = plane.settings.admin_key
    routes: list[BaseRoute] = [Route(P + "/health", _bound(plane, health), methods=["GET"])]
    routes += [Route(P + path, guarded(key, _bound(plane, fn)), methods=[method]) for path, method, fn in ROUTES]
    return routes


def _bound(plane: ControlPlane, handler: Handler) -> Endpoint:
    """`handler` as a starlette endpoint of `plane` (a function, under the handler's name)."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        return await handler(plane, request)

    return endpoint


def _num_or_str(value: str) -> float | str:
    try:
        return float(value)
    except ValueError:
        return value


def _quota_table(value: object) -> bool:
    return isinstance(value, Mapping) and all(
        isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) and v >= 0
        for k, v in value.items())
