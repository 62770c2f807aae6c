"""The access token of a call, for the dialects whose tokens the core issues (core/credentials.py
`Tokens`): present, token-shaped, somebody's, and alive for its kind."""

from __future__ import annotations

import re

from polytag.core.models import App
from polytag.dialects import Call
from polytag.errors import Unauthorized

TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_\-]{16,512}$")


async def token_app(call: Call, ttls: dict[str, int], malformed: str = "malformed") -> tuple[App, str]:
    """(the app, the token's kind) of `?access_token=`, its age judged by `ttls` (kind -> seconds).
    Unauthorized: "missing" when there is none, `malformed` when it is not token-shaped, "invalid"
    when it is nobody's (or superseded), "expired"; the app's dialect is the caller's to judge."""
    token = call.query.get("access_token", "")
    if not token:
        raise Unauthorized("missing")
    if not TOKEN_SHAPE.match(token):
        raise Unauthorized(malformed)
    owner = await call.token_owner_now()  # read once per call (the control plane's app hint may have)
    if owner is None:
        raise Unauthorized("invalid")
    row, hint = owner
    app_id, kind = call.service.tokens.check(token, ttls, row)
    return (hint if hint.id == app_id else call.service.apps.by_id(app_id)), kind
