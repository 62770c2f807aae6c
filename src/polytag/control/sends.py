"""`GET /_polytag/sends`: every message sent to an audience, with who it reached at send time.

Two kinds of log answer in one shape: the send log (core/sends.py: mass messages) and whatever
a dialect's parts logged themselves (push tasks, say), through `core.parts.Sending`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from polytag.control.http import BadRequest, guarded
from polytag.control.plane import ControlPlane
from polytag.core.models import App
from polytag.core.parts import Sending
from polytag.core.sends import sends
from polytag.core.service import Service
from polytag.core.text import storable
from polytag.errors import NotFound


def of_app(service: Service, app: App) -> list[dict[str, Any]]:
    """The app's sends and those its dialect's parts logged (`core.parts.Sending`), oldest first."""
    out = [r.to_json(app) for r in sends(service).log(app)]
    part = service.parts.get(app.dialect)
    if isinstance(part, Sending):
        out += part.sent(app)
    return sorted(out, key=lambda s: s["created_at"])


def select(service: Service, app_name: str | None) -> list[dict[str, Any]]:
    """Sends of one app (LookupError when there is none such) or of every app."""
    if app_name is None:
        return [s for app in service.apps.list() for s in of_app(service, app)]
    if not storable(app_name):  # no app has such a name (and PostgreSQL refuses NUL in a query)
        raise LookupError(app_name)
    try:
        app = service.apps.get(app_name)
    except NotFound:
        raise LookupError(app_name) from None
    return of_app(service, app)


def routes(plane: ControlPlane) -> list[BaseRoute]:
    svc = plane.service

    async def list_sends(request: Request) -> Response:
        name = request.query_params.get("app") or None
        try:
            got = await asyncio.to_thread(select, svc, name)
        except LookupError:
            raise BadRequest(f"no app {name!r}", 404) from None
        return JSONResponse({"sends": got, "count": len(got)})

    return [Route("/_polytag/sends", guarded(plane.settings.admin_key, list_sends), methods=["GET"])]
