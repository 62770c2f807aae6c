"""IM credentials on every `v4/` call: the query string, the admin's UserSig, admin-only, frequency.

Order (the real service's is undocumented): sdkappid present (60012) and numeric (60006),
identifier and usersig present (60004), random and contenttype (60002), the app (70020),
the UserSig (70003/70009/70013/70014/70001), admin (90009/70403), then call frequency (60007).
"""

from __future__ import annotations

from typing import Any

from polytag.core.models import App
from polytag.dialects import Call
from polytag.dialects.tencent_im import usersig
from polytag.dialects.tencent_im.parts import im
from polytag.errors import Forbidden, NotFound, Unauthorized

UINT32_MAX = 4294967295
DIALECT = "tencent_im"


def _uint32(text: str) -> bool:
    return len(text) <= 10 and text.isascii() and text.isdigit() and int(text) <= UINT32_MAX


# `random` is documented as a uint32, but clients in production send what they have: nanosecond
# timestamps (19 digits), negative signed ints. The service only echoes it back for correlation,
# so any decimal 64-bit integer, signed or unsigned, is taken; other text is 60002.
RANDOM_MIN, RANDOM_MAX = -(2**63), 2**64 - 1


def _random(text: str) -> bool:
    digits = text[1:] if text.startswith("-") else text
    if not (0 < len(digits) <= 20 and digits.isascii() and digits.isdigit()):
        return False
    return RANDOM_MIN <= int(text) <= RANDOM_MAX


def admins(app: App) -> list[str]:
    return [str(a) for a in app.config.get("admins", [])]


def _app(call: Call, sdkappid: str) -> App:
    try:
        app = call.service.apps.get(str(int(sdkappid)))
    except NotFound:
        raise Unauthorized("unknown_app") from None
    if app.dialect != DIALECT:
        raise Unauthorized("unknown_app")
    return app


async def authenticate(call: Call) -> App:
    q = call.query
    sdkappid = q.get("sdkappid", "")
    if not sdkappid:
        raise Unauthorized("no_sdkappid")
    if not _uint32(sdkappid):
        raise Unauthorized("bad_sdkappid")
    identifier, sig = q.get("identifier", ""), q.get("usersig", "")
    if not identifier or not sig:
        raise Unauthorized("no_account")
    if not _random(q.get("random", "")) or q.get("contenttype", "").lower() != "json":
        raise Unauthorized("bad_query")
    app = _app(call, sdkappid)
    _, key = call.service.apps.secret_of(app)
    usersig.verify(sig, int(sdkappid), key, identifier, call.service.clock.now())
    if identifier not in admins(app):
        raise Forbidden("not_admin", identifier)
    api = call.endpoint.path
    im(call.service).quotas.hit(app, api)
    return app



def app_hint(call: Call) -> App | None:
    """The app the call's `sdkappid` names, before its UserSig is judged."""
    name = call.query.get("sdkappid") or call.query.get("appid")
    return call.service.apps.get(name) if name else None


def code_of(payload: Any) -> int:
    """`ErrorCode` of an answer (every answer carries one)."""
    if type(payload) is dict:
        code = payload.get("ErrorCode")
        return code if type(code) is int else 0
    return 0
