"""Request-scoped helpers shared by the routers: the Service and the app named in the path."""

from __future__ import annotations

from fastapi import Request

from polytag.core.models import App
from polytag.core.service import Service
from polytag.core.text import storable
from polytag.errors import NotFound


def service_of(request: Request) -> Service:
    svc: Service = request.app.state.service
    return svc


def app_of(request: Request, app: str) -> App:
    """The app addressed by name: appid (WeChat), sdkappid (IM), name (JuziBot, native)."""
    if not storable(app):  # no app has such a name, and PostgreSQL may not be asked for one
        raise NotFound("app", app)
    return service_of(request).apps.get(app)
