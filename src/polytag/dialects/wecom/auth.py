"""WeCom credentials: `cgi-bin/gettoken?corpid=&corpsecret=`, and the access_token on every call.

The corp secret is kept as a SHA-256 hash and compared in constant time. Within its 7200 s a
token is handed out again to every gettoken (WeCom: "有效期内重复获取返回相同结果"); once it has
expired the next gettoken makes a new one.
"""

from __future__ import annotations

import hmac
from typing import Any

from polytag.core.ids import token_hash as secret_hash  # one SHA-256 rule for every stored secret
from polytag.core.models import App
from polytag.core.service import Service
from polytag.dialects import Call
from polytag.dialects._tokens import token_app
from polytag.errors import Forbidden, Invalid, NotFound, Unauthorized
from polytag.store import Tx

DIALECT_NAME = "wecom"
KIND = "wecom"  # the token kind: a WeChat OA token is no WeCom token, nor the reverse
TOKEN_TTL = 7200


async def authenticate(call: Call) -> App:
    """The app whose token is `?access_token=`: 41001 absent, 40014 nobody's, 42001 expired;
    a corp seeded `callable: false` then answers 48002 (its secret may not call these APIs)."""
    app, kind = await token_app(call, {KIND: TOKEN_TTL}, malformed="invalid")  # WeCom: nobody's token
    if app.dialect != DIALECT_NAME or kind != KIND:  # another face's credential of this corp is no access_token
        raise Unauthorized("invalid")
    if app.config.get("callable") is False:
        raise Forbidden("api", app.name)
    return app


def app_hint(call: Call) -> App | None:
    """The corp a call names before it is authenticated: its access_token's (not judged), or the
    corpid of a gettoken."""
    if call.query.get("access_token"):
        owner = call.token_owner()
        return None if owner is None else owner[1]
    corpid = call.query.get("corpid")
    if not corpid:
        return None
    try:
        app = call.service.apps.get(corpid)
    except NotFound:
        return None
    return app if app.dialect == DIALECT_NAME else None


def _verify(svc: Service, corpid: str, secret: str) -> App:
    """The corp for corpid + corpsecret, in WeCom's order: 41002, 41004, 40013, 40001."""
    if not corpid:
        raise Invalid("corpid", "missing")
    if not secret:
        raise Invalid("corpsecret", "missing")
    try:
        app = svc.apps.get(corpid)
    except NotFound:
        raise NotFound("app", corpid) from None
    if app.dialect != DIALECT_NAME:
        raise NotFound("app", corpid)
    stored, _ = svc.apps.secret_of(app)
    if not hmac.compare_digest(stored, secret_hash(secret)):
        raise Unauthorized("secret")
    return app


async def gettoken(call: Call) -> dict[str, Any]:
    """GET cgi-bin/gettoken?corpid=&corpsecret= : the live token, or a new one."""
    svc = call.service
    app = _verify(svc, call.query.get("corpid", ""), call.query.get("corpsecret", ""))
    await call.admit(app)  # the right secret: from here the call counts against the corp

    def op(tx: Tx) -> tuple[str, int]:
        now = svc.clock.now()
        latest = svc.tokens.latest(tx, app.id, KIND)
        if latest is not None and latest[2] - now >= 1:
            return latest[0], int(latest[2] - now)
        issued = svc.tokens.issue(tx, app.id, KIND, TOKEN_TTL, 0, reissue=True)
        return issued.token, issued.expires_in

    token, expires_in = await svc.write(op, app=app)
    return {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": expires_in}


__all__ = ["authenticate", "gettoken", "secret_hash"]
