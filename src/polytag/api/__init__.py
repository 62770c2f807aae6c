"""The native REST API under /v1 (FastAPI): OpenAPI at /openapi.json, docs at /docs, problem+json errors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
from polytag.dialects import declared_length, read_body
from polytag.errors import LimitExceeded, Unauthorized


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
    """Mounted last by polytag.app: it takes "/" for /v1, /openapi.json and /docs."""
    return [Mount("/", app=BodyCap(build(service, settings), settings.max_body_bytes))]


class BodyCap:
    """Refuses a request body over `limit` bytes with 413 problem+json before the app sees it
    (it reads at most the cap plus one chunk), and replays an accepted body to the app."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            body = await read_body(receive, self.limit, declared_length(scope))
        except LimitExceeded as exc:
            response = errors.problem(413, "body-too-large", "Request body too large", exc.detail,
                                      limit=exc.limit, value=exc.value, allowed=exc.allowed)
            await response(scope, receive, send)
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for the disconnect

        await self.app(scope, replay, send)
