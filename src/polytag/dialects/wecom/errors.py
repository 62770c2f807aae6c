"""WeCom error codes and messages (the one table), and `render(exc)` into `{errcode, errmsg}`.

WeCom's errmsg is the short English message, then a request hint, the caller's address and a
link to the code's page: `invalid tagid, hint: [1687318430480130194986936], from ip: 1.2.3.4,
more info at https://open.work.weixin.qq.com/devtool/query?e=40068` (spec C2, observed).
A success says only `ok`. Sources per code: docs/compat/wecom.md.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from polytag.dialects import Call, Endpoint, VendorError
from polytag.dialects._wire import BadJSON
from polytag.errors import Conflict, Forbidden, Invalid, LimitExceeded, NotFound, Unauthorized

GLOBAL, SPEC, OURS = "WeCom global error codes", "spec C2", "our choice"

# code -> (errmsg, source)
MESSAGES: dict[int, tuple[str, str]] = {
    0: ("ok", GLOBAL),
    -1: ("system busy", GLOBAL),
    40001: ("invalid credential", GLOBAL),
    40003: ("invalid userid", GLOBAL),
    40013: ("invalid corpid", GLOBAL),
    40014: ("invalid access_token", GLOBAL),
    40058: ("invalid parameter", GLOBAL),
    40066: ("invalid url", OURS),
    40068: ("invalid tagid", SPEC),
    40071: ("invalid tag name", SPEC),
    40072: ("invalid tag name length", SPEC),
    40096: ("invalid external_userid", SPEC),
    41001: ("access_token missing", GLOBAL),
    41002: ("corpid missing", GLOBAL),
    41004: ("corpsecret missing", GLOBAL),
    42001: ("access_token expired", GLOBAL),
    43001: ("require GET method", GLOBAL),
    43002: ("require POST method", GLOBAL),
    45033: ("api concurrent out of limit", SPEC),
    45056: ("too many tags", OURS),
    45059: ("too many tags on one customer", OURS),
    47001: ("data format error", GLOBAL),
    48002: ("api forbidden", SPEC),
    60011: ("no privilege to access/modify contact/party/agent", SPEC),
    84061: ("not external contact", SPEC),
    301002: ("not allow to operate another agent's data", SPEC),
}

SYSTEM_ERROR = -1
MORE_INFO = "https://open.work.weixin.qq.com/devtool/query?e="


def new_rid() -> str:
    """WeCom's hint: 25 digits (the milliseconds, then twelve random ones)."""
    return f"{int(time.time() * 1000)}{secrets.randbelow(10**12):012d}"


def errmsg(code: int, call: Call) -> str:
    if code == 0:
        return "ok"
    client = call.scope.get("client")
    ip = client[0] if client else ""
    return f"{MESSAGES[code][0]}, hint: [{call.rid}], from ip: {ip}, more info at {MORE_INFO}{code}"


def _auth_code(exc: Unauthorized) -> int:
    return {"missing": 41001, "expired": 42001, "secret": 40001}.get(exc.reason, 40014)


def _invalid_code(exc: Invalid) -> int:
    match exc:
        case Invalid(field="corpid", reason="missing"):
            return 41002
        case Invalid(field="corpsecret", reason="missing"):
            return 41004
        case Invalid(reason="type"):
            return 47001
        case Invalid(field="name" | "group_name", reason="too_long" | "empty"):
            return 40072
        case Invalid(field="name" | "group_name", reason="missing"):
            return 40058
        case Invalid(field="name" | "group_name"):
            return 40071
    return 40058


def code_for(exc: BaseException) -> int:
    """The WeCom code for a core or wire error; -1 (system busy) for anything unforeseen."""
    match exc:
        case VendorError(code=code) if code in MESSAGES:
            return code
        case BadJSON():
            return 47001
        case Invalid():
            return _invalid_code(exc)
        case Conflict(kind="group_name" | "tag_name"):
            return 40071
        case NotFound(kind="tag" | "group"):
            return 40068
        case NotFound(kind="member"):
            return 40003
        case NotFound(kind="customer"):
            return 40096
        case NotFound(kind="friendship"):
            return 84061
        case NotFound(kind="app"):
            return 40013
        case Unauthorized():
            return _auth_code(exc)
        case Forbidden():
            return 48002
        case LimitExceeded(limit="body_bytes"):
            return 47001
        case LimitExceeded(limit="tags_per_app"):
            return 45056
        case LimitExceeded(limit="tags_per_subject"):
            return 45059
        case LimitExceeded():
            return 40058
    return SYSTEM_ERROR


def envelope(code: int, call: Call) -> dict[str, Any]:
    return {"errcode": code, "errmsg": errmsg(code, call)}


def render(exc: BaseException, call: Call) -> tuple[int, dict[str, Any]]:
    """HTTP 200 with WeCom's envelope for every error."""
    return 200, envelope(code_for(exc), call)


def wrong_method(ep: Endpoint) -> VendorError:
    """A call with the wrong HTTP method: 43001 (GET required), 43002 (POST required)."""
    return VendorError(43001 if "GET" in ep.methods else 43002)


def unknown_path(path: str) -> VendorError:
    return VendorError(40066, path)
