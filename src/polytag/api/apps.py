"""/v1/apps: list every app whatever its dialect, get one, create a native one."""

from __future__ import annotations

from fastapi import APIRouter, Request

from polytag.api.deps import app_of, service_of
from polytag.api.schemas import AppCreate, AppOut
from polytag.core import native
from polytag.core.models import App
from polytag.core.service import Service

router = APIRouter(tags=["apps"])


def app_out(service: Service, app: App) -> AppOut:
    rows = service.store.read()
    head = rows.app_head(app.id)  # ordinals are dense: next_subject is how many there are
    return AppOut(name=app.name, dialect=app.dialect, subjects=int(head[1]) if head else 0,
                  tags=rows.count_tags(app.id), limits=app.limits.to_dict())


@router.get("/apps", response_model=list[AppOut])
def list_apps(request: Request) -> list[AppOut]:
    svc = service_of(request)
    return [app_out(svc, a) for a in svc.apps.list()]


@router.get("/apps/{app}", response_model=AppOut)
def get_app(request: Request, app: str) -> AppOut:
    return app_out(service_of(request), app_of(request, app))


@router.post("/apps", response_model=AppOut, status_code=201)
async def create_app(request: Request, body: AppCreate) -> AppOut:
    """Create (or update the limits of) a native app: no vendor face, the native limits preset."""
    svc = service_of(request)
    app, _created = await svc.write(native.create_app(svc, body.name, body.limits))
    return app_out(svc, app)
