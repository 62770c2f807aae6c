"""The control plane's HTTP edges: the admin-key guard, JSON in with 400s, JSON out."""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from polytag.admin import authorized
from polytag.core.text import storable
from polytag.errors import NotFound

if TYPE_CHECKING:
    from polytag.core.apps import Apps
    from polytag.core.models import App

Endpoint = Callable[[Request], Awaitable[Response]]


class BadRequest(Exception):
    """A control call the server cannot act on: answered 400 (or `status`) with the message."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message, self.status = message, status


def fail(message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def guarded(admin_key: str | None, handler: Endpoint) -> Endpoint:
    """401 without the admin key (when one is set); BadRequest becomes its status, never a 500."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        if not authorized(request.headers, admin_key):
            return fail("admin key required: Authorization: Bearer <key>", 401)
        try:
            return await handler(request)
        except BadRequest as exc:
            return fail(exc.message, exc.status)

    return endpoint


async def body_json(request: Request, default: Any = None) -> Any:
    """The request's JSON body; `default` when empty; BadRequest when it is not JSON. Its size is
    capped before this by polytag.guard (--max-body-bytes), its type checked there too."""
    raw = await request.body()
    if not raw.strip():
        return default
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"body is not valid JSON: {exc}") from None
    except RecursionError:  # json.loads recurses once per `[` or `{`
        raise BadRequest("body is not valid JSON: nested too deeply") from None


async def body_object(request: Request) -> dict[str, Any]:
    doc = await body_json(request, {})
    if not isinstance(doc, dict):
        raise BadRequest("body must be a JSON object")
    return doc


def opt_str(doc: Mapping[str, Any], key: str) -> str | None:
    value = doc.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise BadRequest(f"`{key}` must be a non-empty string")
    if not storable(value):  # kept and shown again: it must encode (no NUL, no lone surrogate)
        raise BadRequest(f"`{key}` holds NUL or a lone surrogate")
    return value


def opt_number(doc: Mapping[str, Any], key: str, lo: float, hi: float = math.inf) -> float | None:
    value = doc.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        raise BadRequest(f"`{key}` must be a number in [{lo}, {hi}]")
    return float(value)


def opt_int(doc: Mapping[str, Any], key: str, lo: int, hi: int | None = None) -> int | None:
    value = doc.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < lo or (hi is not None and value > hi):
        raise BadRequest(f"`{key}` must be an integer >= {lo}" + (f" and <= {hi}" if hi is not None else ""))
    return value


def query_int(request: Request, key: str, default: int | None = None) -> int | None:
    raw = request.query_params.get(key)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(f"`{key}` must be an integer") from None


def ok(doc: Any = None, status: int = 200) -> JSONResponse:
    return JSONResponse({"ok": True} if doc is None else doc, status_code=status)


def named_app(apps: Apps, name: str) -> App:
    """The app a request names: 400 when the name cannot be one (NUL, a lone surrogate), 404
    when no app has it."""
    if not storable(name):
        raise BadRequest("`app` holds NUL or a lone surrogate")
    try:
        return apps.get(name)
    except NotFound:
        raise BadRequest(f"no app {name[:100]!r}", 404) from None
