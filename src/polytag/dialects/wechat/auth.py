"""WeChat credentials: `cgi-bin/token`, `cgi-bin/stable_token`, and the access_token check on every call.

Secrets are kept as SHA-256 hashes and compared in constant time; tokens are random,
stored by hash, valid 7200 s; a new `token` leaves the previous one 300 s of overlap (spec A2).
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from polytag.core.ids import token_hash as secret_hash  # one SHA-256 rule for every stored secret
from polytag.core.models import App
from polytag.core.service import Service
from polytag.dialects import Call
from polytag.dialects._tokens import token_app
from polytag.dialects.wechat import body, errors
from polytag.errors import LimitExceeded, NotFound, Unauthorized
from polytag.store import Tx

TOKEN_TTL = 7200
OVERLAP = 300
KIND_TTL = {"token": TOKEN_TTL, "stable": TOKEN_TTL}
DIALECT_NAME = "wechat"


async def authenticate(call: Call) -> App:
    app, _kind = await token_app(call, KIND_TTL)
    if app.dialect != DIALECT_NAME:
        raise Unauthorized("invalid")
    return app


def app_hint(call: Call) -> App | None:
    """The app a call names before it is authenticated: its access_token's (not judged), or the
    appid of a token request (`stable_token` sends it in the body)."""
    if call.query.get("access_token"):
        owner = call.token_owner()
        return None if owner is None else owner[1]
    appid = call.query.get("appid") or _body_field(call.body, "appid")
    return call.service.apps.get(appid) if appid else None


def _body_field(body: bytes, key: str) -> str | None:
    """A top-level string field of a JSON body, or None."""
    if not body or len(body) > 65536:
        return None
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    value = doc.get(key) if isinstance(doc, dict) else None
    return value if isinstance(value, str) and value else None


def _verify(svc: Service, appid: str, secret: str) -> App:
    """The app for appid+secret, in the vendor's order: appid missing, secret missing, unknown
    appid, wrong secret."""
    if not appid:
        raise errors.appid_missing()
    if not secret:
        raise errors.secret_missing()
    try:
        app = svc.apps.get(appid)
    except NotFound:
        raise errors.invalid_appid() from None
    if app.dialect != DIALECT_NAME:
        raise errors.invalid_appid()
    stored, _ = svc.apps.secret_of(app)
    if not hmac.compare_digest(stored, secret_hash(secret)):
        raise errors.wrong_secret(app)
    return app


async def token(call: Call) -> dict[str, Any]:
    """GET cgi-bin/token?grant_type=client_credential&appid=&secret= : a new token every call."""
    if body.query(call, "grant_type") != "client_credential":
        raise errors.invalid_grant_type()
    app = _verify(call.service, body.query(call, "appid"), body.query(call, "secret"))
    await call.admit(app)  # the right secret: from here the call counts against the app's quota
    issued = await call.service.write(lambda tx: call.service.tokens.issue(tx, app.id, "token", TOKEN_TTL, OVERLAP), app=app)
    return {"access_token": issued.token, "expires_in": issued.expires_in}


async def stable_token(call: Call) -> dict[str, Any]:
    """POST cgi-bin/stable_token: the same token while it has > 5 min left; force_refresh rolls it."""
    b = body.json_body(call)
    if body.string(b, "grant_type") != "client_credential":
        raise errors.invalid_grant_type()
    force = b.get("force_refresh")
    force = False if force is None else force  # null = absent, as for every other field
    if not isinstance(force, bool):
        raise errors.data_format("force_refresh is not a boolean")
    svc = call.service
    app = _verify(svc, body.string(b, "appid"), body.string(b, "secret"))
    await call.admit(app)

    def op(tx: Tx) -> tuple[str, int]:
        now = svc.clock.now()
        if force:
            per_day = app.limits.token_refresh_per_day
            if per_day is not None and tx.count_tokens_since(app.id, "stable_force", now - 86400) >= per_day:
                raise LimitExceeded("quota", per_day + 1, per_day)
            last = tx.last_issued(app.id, "stable_force")
            if last is not None and now - last < app.limits.token_refresh_gap:
                raise errors.minute_quota()
            tx.insert_token(secret_hash(f"force:{now}:{id(tx)}"), app.id, "stable_force", now, now)
            issued = svc.tokens.issue(tx, app.id, "stable", TOKEN_TTL, 0, reissue=True)
            return issued.token, issued.expires_in
        latest = svc.tokens.latest(tx, app.id, "stable")
        if latest is not None and latest[2] - now > OVERLAP:
            return latest[0], int(latest[2] - now)
        issued = svc.tokens.issue(tx, app.id, "stable", TOKEN_TTL, OVERLAP, reissue=True)
        return issued.token, issued.expires_in

    tok, expires_in = await svc.write(op, app=app)
    return {"access_token": tok, "expires_in": expires_in}
