"""Serving the console: `/console/session` and the static files of `static/` with explicit
content types and a self-only Content-Security-Policy (polytag.guard decides who reaches them)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from polytag.config import Settings

STATIC = Path(__file__).resolve().parent / "static"
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".ico": "image/x-icon"}
# The page talks to its own origin only: no CDN, no fonts, no inline script.
HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; script-src 'self'; style-src 'self'; "
                                "img-src 'self' data: blob:; connect-src 'self'; "
                                "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
Endpoint = Callable[[Request], Awaitable[Response]]


def assets() -> dict[str, Path]:
    """The servable files by name: the flat `static/` folder, nothing below or beside it."""
    return {p.name: p for p in STATIC.iterdir() if p.is_file() and p.suffix in TYPES}


def build(settings: Settings) -> list[BaseRoute]:
    files = assets()
    key = settings.admin_key

    async def to_slash(request: Request) -> Response:
        return RedirectResponse("/console/", 307)

    async def page(request: Request) -> Response:
        return asset_response(files["index.html"])

    async def asset(request: Request) -> Response:
        found = files.get(request.path_params["name"])
        if found is None:
            return PlainTextResponse("404 Not Found", 404)
        return asset_response(found)

    async def session(request: Request) -> Response:
        """What the page needs before it calls anything: whether to ask for the admin key."""
        return JSONResponse({"key_required": bool(key)}, headers={"Cache-Control": "no-store"})

    table: list[tuple[str, Endpoint]] = [("/console", to_slash), ("/console/", page),
                                         ("/console/session", session), ("/console/{name}", asset)]
    # who may load the page (loopback peers only without a key; allowed Host names) is polytag.guard's
    return [Route(path, fn, methods=["GET", "HEAD"]) for path, fn in table]


def asset_response(path: Path) -> Response:
    return Response(path.read_bytes(), media_type=TYPES[path.suffix], headers=HEADERS)
