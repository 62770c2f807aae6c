"""WeChat OA error codes and messages (the one table), and `render(exc)` into `{errcode, errmsg}`.

Messages are WeChat's global return-code table (spec A6); the real server appends
` rid: xxxxxxxx-xxxxxxxx-xxxxxxxx`, and clients compare only `errcode`.
"""

from __future__ import annotations

import logging
import random
import time
from typing import Any

from polytag.core.models import App
from polytag.dialects import Call, Endpoint, VendorError
from polytag.dialects._body import BodyField, EmptyBody
from polytag.dialects._codes import first_code, when
from polytag.dialects._wire import BadJSON
from polytag.errors import (
    Conflict,
    Forbidden,
    Invalid,
    LimitExceeded,
    NotFound,
    Unauthorized,
)

log = logging.getLogger("polytag.wechat")

# code -> (errmsg base text, source)
MESSAGES: dict[int, tuple[str, str]] = {
    -1: ("system error", "seed 000/001; spec A6"),
    40001: ("invalid credential, access_token is invalid or not latest, could get access_token by "
            "getStableAccessToken, more details at https://mmbizurl.cn/s/JtxxFh33r", "spec A1 (observed)"),
    40002: ("invalid grant_type", "spec A2/A6"),
    40003: ("invalid openid", "seed 000/001; spec A6"),
    40013: ("invalid appid", "spec A2/A6"),
    40014: ("invalid access_token", "spec A6"),
    40032: ("invalid openid list size", "seed 001; spec A6"),
    40007: ("invalid media_id", "global return codes; mass sendall/send docs"),
    40008: ("invalid message type", "global return codes; mass sendall/send docs"),
    40059: ("invalid msg id", "observed: mass/get and mass/delete (developer community threads)"),
    40066: ("invalid url", "spec A6"),
    40073: ("invalid card id", "global return codes"),
    40130: ("invalid openid list size, at least two openid", "observed (mass/send with one openid); "
            "mass/send doc: 2..10000 openids"),
    40152: ("invalid group id", "global return codes; observed for sendall's filter"),
    40125: ("invalid appsecret", "spec A1/A2 (observed)"),
    41001: ("access_token missing", "spec A6"),
    41002: ("appid missing", "spec A2/A6"),
    41004: ("appsecret missing", "spec A2/A6"),
    42001: ("access_token expired", "spec A6"),
    43001: ("require GET method", "spec A6"),
    43002: ("require POST method", "spec A6"),
    44002: ("empty post data", "spec A5/A6"),
    44004: ("empty content", "global return codes (text message content empty)"),
    45009: ("reach max api daily quota limit", "spec A1/A6"),
    45011: ("api minute-quota reach limit, must slower, retry next minute", "spec A2/A6"),
    45028: ("has no masssend quota", "global return codes; mass sendall/send docs"),
    45056: ("too many tag now, no need to add new", "seed 000; spec A6"),
    45057: ("can't delete the tag that has too many fans", "seed 000; spec A6"),
    45058: ("can't modify sys tag", "seed 000; spec A1 (observed)"),
    45059: ("can not tagging one user too much", "seed 000; spec A6"),
    45065: ("clientmsgid exist", "sendall/send docs (clientmsgid); observed with the first send's msg_id"),
    45066: ("same clientmsgid retry too fast", "sendall/send docs (clientmsgid); observed"),
    45067: ("clientmsgid size out of limit", "sendall/send docs (clientmsgid, 64 bytes); observed"),
    45083: ("the speed out of range", "mass/speed/set doc"),
    45084: ("No speed message", "mass/speed/set doc"),
    45157: ("invalid tag name", "seed 000; spec A6"),
    45158: ("tag name too long", "seed 000; spec A6"),
    45159: ("invalid tag id", "seed 000/001; spec A6"),
    47001: ("data format error", "spec A6"),
    48001: ("api unauthorized", "spec A6"),
    49003: ("not match openid with appid", "seed 000/001; spec A6"),
}


# which code a wrong secret gets at `token` (spec A2: 40125, or 40001 as some accounts see)
WRONG_SECRET_CODES = (40125, 40001)


# errors that exist only on WeChat's wire (credentials at `token`, methods, paths)
def appid_missing() -> VendorError:
    return VendorError(41002)


def secret_missing() -> VendorError:
    return VendorError(41004)


def invalid_appid() -> VendorError:
    return VendorError(40013)


def wrong_secret(app: App) -> VendorError:
    """The code the app's seed chose for a wrong secret (`wrong_secret_code`), 40125 by default."""
    code = app.config.get("wrong_secret_code")
    return VendorError(code if code in WRONG_SECRET_CODES else WRONG_SECRET_CODES[0])


def invalid_grant_type() -> VendorError:
    return VendorError(40002)


def data_format(detail: str = "") -> VendorError:
    return VendorError(47001, detail)


def minute_quota() -> VendorError:
    """stable_token force_refresh again within 30 seconds."""
    return VendorError(45011)


def wrong_method(ep: Endpoint) -> VendorError:
    return VendorError(43002 if "POST" in ep.methods else 43001)  # user/tag/get: POST now


def unknown_path(path: str) -> VendorError:
    return VendorError(40066, path)


def new_rid() -> str:
    """WeChat's request marker: three groups of 8 hex digits (the first is the time)."""
    rnd = random.getrandbits(64)  # a marker, not a secret
    return f"{int(time.time()) & 0xFFFFFFFF:08x}-{rnd >> 32:08x}-{rnd & 0xFFFFFFFF:08x}"


def envelope(code: int, rid: str) -> dict[str, Any]:
    if code == 0:
        return {"errcode": 0, "errmsg": "ok"}
    return {"errcode": code, "errmsg": f"{MESSAGES[code][0]} rid: {rid}"}


def _batch(limit: str) -> bool:
    return limit.startswith("batch:")


# the first row an error fits gives its code (polytag.dialects._codes); the wire's, then the core's
CODES = [
    when(EmptyBody, 44002), when(BadJSON, 47001),
    when(BodyField, 47001),  # a field of the wrong type is a data format error, whatever its name
    when(NotFound, 45159, kind="tag"), when(NotFound, 40003, kind="subject"), when(NotFound, 40013, kind="app"),
    when(Forbidden, 49003, reason="other_app"), when(Forbidden, 45058, reason="reserved_tag"),
    when(Conflict, 45157, kind="tag_name"),
    when(Invalid, 45158, field="name", reason="too_long"), when(Invalid, 45157, field="name"), when(Invalid, 47001),
    when(LimitExceeded, 47001, limit="body_bytes"),  # no documented "post data too long" code
    when(LimitExceeded, 45056, limit="tags_per_app"), when(LimitExceeded, 45059, limit="tags_per_subject"),
    when(LimitExceeded, 45057, limit="tag_delete_max_members"), when(LimitExceeded, 40032, limit=_batch),
    when(LimitExceeded, 45009, limit="quota"),
    when(Unauthorized, 41001, reason="missing"), when(Unauthorized, 40014, reason="malformed"),
    when(Unauthorized, 42001, reason="expired"), when(Unauthorized, 40001),
]


def code_for(exc: BaseException) -> int:
    """The WeChat code for a core or wire error; -1 (system error) for anything unforeseen
    (Unavailable included). MASS_CODES are looked up first: keyed by an error's exact class,
    they hold no wire error, the only rows of CODES above the core's."""
    if isinstance(exc, VendorError):
        return exc.code
    mass = MASS_CODES.get(_mass_key(exc))
    return first_code(CODES, exc, -1) if mass is None else mass


def render(exc: BaseException, call: Call) -> tuple[int, dict[str, Any]]:
    """HTTP 200 with WeChat's envelope for every API error (spec A1); a clientmsgid already used
    answers the first send's msg_id too (observed)."""
    body = envelope(code_for(exc), call.rid)
    if isinstance(exc, Conflict) and exc.kind == "send_key" and str(exc.key).isdigit():
        body["msg_id"] = int(str(exc.key))
    return 200, body


# mass messaging (dialects/wechat/mass.py) ----------------------------------------------------
SUBMITTED = "send job submission success"   # sendall/send answer this errmsg with errcode 0
PREVIEWED = "preview success"               # preview's errmsg
INVALID_MEDIA_ID, INVALID_MESSAGE_TYPE, INVALID_CARD_ID, EMPTY_CONTENT = 40007, 40008, 40073, 44004
INVALID_OPENID = 40003
MSG_STATUS = {"sent": "SEND_SUCCESS", "deleted": "DELETE"}  # mass/get's msg_status by record status

# (error class, kind/field/limit[, reason]) of core send errors -> code
MASS_CODES: dict[tuple[str, ...], int] = {
    ("NotFound", "send_tag"): 40152,
    ("NotFound", "send"): 40059,
    ("Conflict", "send_key"): 45065,
    ("Conflict", "send_retry"): 45066,
    ("Invalid", "dedupe_key"): 45067,
    ("Invalid", "pace", "missing"): 45084,
    ("Invalid", "pace"): 45083,
    ("LimitExceeded", "send_list"): 40130,
    ("LimitExceeded", "sends_per_period"): 45028,
}


def _mass_key(exc: BaseException) -> tuple[str, ...]:
    name = type(exc).__name__
    match exc:
        case NotFound(kind=k) | Conflict(kind=k):
            return (name, k)
        case Invalid(field="pace", reason="missing"):
            return (name, "pace", "missing")
        case Invalid(field=f):
            return (name, f)
        case LimitExceeded(limit=lim):
            return (name, lim)
    return (name,)


def refused(code: int, detail: str = "") -> VendorError:
    """A refusal by one of this table's codes, named where it is raised (mass sends: the
    INVALID_* constants above)."""
    return VendorError(code, detail)
