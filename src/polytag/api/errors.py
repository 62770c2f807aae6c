"""The one translator of core errors (and request-shape errors) to `application/problem+json`."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse

from polytag.core.expr import ExprError
from polytag.core.text import storable
from polytag.errors import (
    Conflict,
    Forbidden,
    Invalid,
    LimitExceeded,
    NotFound,
    PolytagError,
    Unauthorized,
    Unavailable,
)

log = logging.getLogger("polytag.api")
PROBLEM = "application/problem+json"


def problem(status: int, slug: str, title: str, detail: str = "", **extra: Any) -> JSONResponse:
    body = {"type": f"/problems/{slug}", "title": title, "status": status, "detail": detail or title, **extra}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _safe(value: object) -> object:
    """A JSON-able echo of a value: a lone surrogate is escaped (it has no UTF-8 form)."""
    if isinstance(value, str):
        return value if storable(value) else value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value if isinstance(value, int | float | bool | type(None)) else repr(value)


def render(exc: PolytagError) -> JSONResponse:
    """The problem document of a core error; its fields become extension members."""
    match exc:
        case ExprError():
            return problem(400, "bad-expression", "Bad audience expression", exc.detail,
                           reason=exc.reason, position=exc.position, token=_safe(exc.value))
        case NotFound():
            return problem(404, "not-found", f"No such {exc.kind}", exc.detail, kind=exc.kind, key=_safe(exc.key))
        case Conflict():
            return problem(409, "conflict", "Already exists", exc.detail, kind=exc.kind, key=_safe(exc.key))
        case Invalid():
            return problem(400, "invalid", f"Invalid {exc.field}", exc.detail, field=exc.field,
                           reason=exc.reason)
        case LimitExceeded():
            status = 400 if exc.limit.startswith("batch:") else 409
            return problem(status, "limit-exceeded", "Limit exceeded", exc.detail, limit=exc.limit,
                           value=exc.value, allowed=exc.allowed)
        case Unauthorized():
            return problem(401, "unauthorized", "Unauthorized", exc.detail, reason=exc.reason)
        case Forbidden():
            return problem(403, "forbidden", "Forbidden", exc.detail, reason=exc.reason, key=_safe(exc.key))
        case Unavailable():
            return problem(503, "unavailable", "Store unavailable, retry", exc.detail)
    return problem(400, "error", type(exc).__name__, exc.detail)


def install(app: FastAPI) -> None:
    """Register the handlers: core errors, validation errors, HTTP errors, and the unexpected."""

    async def core(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, PolytagError)
        return render(exc)

    async def validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        found = [(".".join(str(p) for p in e.get("loc", ())), str(e.get("msg", "")), str(e.get("type", "")))
                 for e in exc.errors()]
        errors = [{"loc": loc, "msg": msg, "type": kind} for loc, msg, kind in found]
        if any(kind == "json_invalid" for _, _, kind in found):
            return problem(400, "malformed-body", "Malformed JSON body", found[0][1], errors=errors)
        return problem(422, "validation", "Request does not match the schema",
                       "; ".join(f"{loc}: {msg}" for loc, msg, _ in found), errors=errors)

    async def http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        return problem(exc.status_code, "http", str(exc.detail), str(exc.detail))

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error in %s %s", request.method, request.url.path)
        return problem(500, "internal", "Internal error", "an unexpected error was logged")

    app.add_exception_handler(PolytagError, core)
    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(HTTPException, http)
    app.add_exception_handler(Exception, unexpected)
