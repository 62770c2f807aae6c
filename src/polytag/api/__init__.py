"""The native REST API under /v1 (FastAPI): OpenAPI at /openapi.json, docs at /docs, problem+json errors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from starlette.routing import BaseRoute, Mount

from polytag import __version__
from polytag.admin import authorized
from polytag.api import errors
from polytag.api.apps import router as apps_router
from polytag.api.audiences import router as audiences_router
from polytag.api.memberships import router as memberships_router
from polytag.api.subjects import router as subjects_router
from polytag.api.tags import router as tags_router
from polytag.config import Settings
from polytag.core.service import Service
from polytag.errors import Unauthorized


def build(service: Service, settings: Settings) -> FastAPI:
    """The FastAPI app of the native API over `service` (auth by the admin key, when one is set)."""
    api = FastAPI(title="polytag", version=__version__, openapi_url="/openapi.json", docs_url="/docs",
                  redoc_url=None, description="Native REST API over every app, whatever its dialect.")
    api.state.service = service
    key = settings.admin_key

    async def require_key(request: Request) -> None:
        if not authorized(request.headers, key):
            raise Unauthorized("missing" if "authorization" not in request.headers else "wrong_key")

    v1 = APIRouter(prefix="/v1", dependencies=[Depends(require_key)])
    for router in (apps_router, tags_router, subjects_router, memberships_router, audiences_router):
        v1.include_router(router)
    api.include_router(v1)
    errors.install(api)
    return api


def routes(service: Service, settings: Settings, dialects: Mapping[str, Any]) -> list[BaseRoute]:
    """Mounted last by polytag.app: it takes "/" for /v1, /openapi.json and /docs (behind
    polytag.guard, which also caps the body)."""
    return [Mount("/", app=build(service, settings))]
