"""JuziBot credentials: the `token` query parameter on every call, kept as a SHA-256 hash."""

from __future__ import annotations

import hmac

from polytag.core.ids import token_hash as secret_hash  # one SHA-256 rule for every stored secret
from polytag.core.models import App
from polytag.dialects import Call
from polytag.errors import Unauthorized

DIALECT_NAME = "juzibot"



async def authenticate(call: Call) -> App:
    """The app whose token is `?token=`: 41001 when absent, 40014 when nobody's."""
    token = call.query.get("token", "")
    if not token:
        raise Unauthorized("missing")
    wanted = secret_hash(token)
    svc = call.service
    app_id = svc.store.read().app_id_by_secret_hash(DIALECT_NAME, wanted)
    if app_id is None:
        return _face(call, wanted)
    app = svc.apps.by_id(app_id)
    stored, _ = svc.apps.secret_of(app)
    # the lookup was by hash already; comparing again in constant time costs nothing
    if app.dialect != DIALECT_NAME or not hmac.compare_digest(stored, wanted):
        raise Unauthorized("invalid")
    return app


def app_hint(call: Call) -> App | None:
    """The app whose token the call carries, before it is judged (None: nobody's, or none)."""
    token = call.query.get("token", "")
    if not token:
        return None
    svc = call.service
    app_id = svc.store.read().app_id_by_secret_hash(DIALECT_NAME, secret_hash(token))
    return svc.apps.by_id(app_id) if app_id is not None else None


def _face(call: Call, wanted: str) -> App:
    """A corp of another dialect seen through JuziBot (a seed entry with `corpid:`): its JuziBot
    token is a token of kind "juzibot" on that corp, which never expires."""
    row = call.service.store.read().token(wanted)
    if row is None or row[1] != DIALECT_NAME:
        raise Unauthorized("invalid")
    return call.service.apps.by_id(int(row[0]))
