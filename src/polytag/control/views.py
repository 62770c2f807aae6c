"""The `/_polytag/` endpoints: thin handlers over the ControlPlane (parse, act, answer JSON)."""

from __future__ import annotations

import time
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from polytag import __version__, seed
from polytag.control import clock
from polytag.control.http import (
    BadRequest,
    body_json,
    body_object,
    guarded,
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


def build(plane: ControlPlane) -> list[BaseRoute]:
    svc, found = plane.service, plane.dialects
    # what the console shows differently per dialect, from each record (polytag.dialects.Console)
    consoles = {name: {"grouped": d.console.grouped, "hue": d.console.hue, "callbacks": d.callbacks is not None,
                       "callback_modes": list(d.callbacks.modes) if d.callbacks else []}
                for name, d in sorted(found.items())}

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "version": __version__, "backend": svc.store.backend,
                             "dialects": sorted(found), "console": consoles})

    async def reset(request: Request) -> Response:
        name = opt_str(await body_object(request), "app")
        started = time.perf_counter()
        try:
            apps = await (plane.resetter.reset_app(name) if name else plane.resetter.reset_all())
        except LookupError:
            raise BadRequest(f"no app {name!r} (neither present nor in the startup seeds)", 404) from None
        return ok({"reset": name or "all", "apps": [a.name for a in apps],
                   "seconds": round(time.perf_counter() - started, 4)})

    async def seed_apps(request: Request) -> Response:
        try:
            apps = await plane.resetter.seed(await body_json(request, None))
        except seed.SeedError as exc:
            raise BadRequest(str(exc)) from None
        return ok({"apps": [{"name": a.name, "dialect": a.dialect} for a in apps]})

    async def get_snapshot(request: Request) -> Response:
        name = request.query_params.get("app") or None
        try:
            secrets = request.query_params.get("secrets", "") in ("1", "true")  # plain-text secrets: asked for
            return JSONResponse(await plane.take_snapshot(name, secrets))
        except LookupError:
            raise BadRequest(f"no app {name!r}", 404) from None

    async def post_snapshot(request: Request) -> Response:
        try:
            names = await plane.load_snapshot(await body_json(request, None))
        except SnapshotError as exc:
            raise BadRequest(str(exc)) from None
        except Exception as exc:  # a row the schema refuses: the document's fault, not ours
            raise BadRequest(f"snapshot does not load: {exc}") from None
        return ok({"loaded": names})

    async def requests(request: Request) -> Response:
        q = request.query_params
        since = q.get("since")
        where = Filter(app=q.get("app") or None, dialect=q.get("dialect") or None,
                       path=q.get("path") or None, after=query_int(request, "after"),
                       since=clock.parse_instant(_num_or_str(since)) if since else None)
        got = plane.journal.select(where, query_int(request, "limit"))
        return JSONResponse({"requests": [e.to_json() for e in got], "count": len(got),
                             "size": plane.journal.size})

    async def clear_requests(request: Request) -> Response:
        return ok({"cleared": plane.journal.clear(request.query_params.get("app") or None)})

    async def resize_requests(request: Request) -> Response:
        size = opt_int(await body_object(request), "size", 1, 1_000_000)
        if size is None:
            raise BadRequest("`size` is required")
        plane.journal.resize(size)
        return ok({"size": plane.journal.size})

    async def faults(request: Request) -> Response:
        return JSONResponse({"faults": [f.to_json() for f in plane.faults.list()]})

    async def add_fault(request: Request) -> Response:
        return ok(plane.faults.add(await body_object(request), found).to_json(), 201)

    async def clear_faults(request: Request) -> Response:
        plane.faults.clear(request.query_params.get("app") or None)
        return ok()

    async def remove_fault(request: Request) -> Response:
        fault_id = request.path_params["fault_id"]
        if not plane.faults.remove(fault_id):
            raise BadRequest(f"no fault {fault_id!r}", 404)
        return ok()

    async def get_clock(request: Request) -> Response:
        return JSONResponse(clock.state(svc.clock))

    async def move_clock(request: Request) -> Response:
        return JSONResponse(clock.move(svc.clock, await body_object(request)))

    async def quotas(request: Request) -> Response:
        name = request.query_params.get("app") or ""
        try:
            app = svc.apps.get(name)
        except NotFound:
            raise BadRequest(f"no app {name!r}", 404) from None
        return JSONResponse({"app": app.name, "usage": plane.quotas.usage(app, svc.clock.now())})

    async def set_quotas(request: Request) -> Response:
        doc = await body_object(request)
        name, daily = opt_str(doc, "app"), doc.get("daily")
        if name is None or not isinstance(daily, Mapping) or not _quota_table(daily):
            raise BadRequest("expected {\"app\": NAME, \"daily\": {API: calls per day (0 = unlimited)}}")
        plane.quotas.set(name, daily)
        return ok()

    key = plane.settings.admin_key
    table = [
        ("/reset", reset, ["POST"]), ("/seed", seed_apps, ["POST"]),
        ("/snapshot", get_snapshot, ["GET"]), ("/snapshot", post_snapshot, ["POST"]),
        ("/requests", requests, ["GET"]), ("/requests", clear_requests, ["DELETE"]),
        ("/requests", resize_requests, ["PUT"]),
        ("/faults", faults, ["GET"]), ("/faults", add_fault, ["POST"]), ("/faults", clear_faults, ["DELETE"]),
        ("/faults/{fault_id}", remove_fault, ["DELETE"]),
        ("/clock", get_clock, ["GET"]), ("/clock", move_clock, ["POST"]),
        ("/quotas", quotas, ["GET"]), ("/quotas", set_quotas, ["POST"]),
    ]
    routes: list[BaseRoute] = [Route(P + "/health", health, methods=["GET"])]
    routes += [Route(P + path, guarded(key, fn), methods=methods) for path, fn, methods in table]
    return routes


def _num_or_str(value: str) -> float | str:
    try:
        return float(value)
    except ValueError:
        return value


def _quota_table(value: object) -> bool:
    return isinstance(value, Mapping) and all(
        isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) and v >= 0
        for k, v in value.items())
