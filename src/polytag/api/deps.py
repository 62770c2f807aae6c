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
    """The app addressed by name (whatever its dialect calls it: an app id, a number, a name);
    its index and directory stay in memory until the request ends (create_app's `Pinning`)."""
    if not storable(app):  # no app has such a name, and PostgreSQL may not be asked for one
        raise NotFound("app", app)
    svc = service_of(request)
    found = svc.apps.get(app)
    svc.resident.pin_for_request(found.id)
    return found
