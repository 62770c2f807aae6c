"""JuziBot error codes and messages (the one table), and `render(exc)` into `{errcode, errmsg}`.

-1..-4 are the seed page's own; where the seed gives no code we answer with the WeCom code of
the rule underneath (spec C2), and where WeCom has none either, with a code of our choosing.
"""

from __future__ import annotations

import uuid
from typing import Any

from polytag.dialects import Call, Endpoint, VendorError
from polytag.dialects._body import BodyField
from polytag.dialects._wire import BadJSON
from polytag.errors import Conflict, Forbidden, Invalid, LimitExceeded, NotFound, Unauthorized

SEED, WECOM, OURS = "seed", "WeCom rule", "our choice"

# code -> (errmsg, source)
MESSAGES: dict[int, tuple[str, str]] = {
    0: ("ok", SEED),
    -1: ("invalid tag group name", SEED),
    -2: ("no permission to tag group", SEED),
    -3: ("tag group name exceed max length", SEED),
    -4: ("tag name exceed max length", SEED),
    40003: ("invalid userid", WECOM),
    40014: ("invalid token", WECOM),
    40058: ("invalid parameter", WECOM),
    40066: ("invalid url", OURS),
    40068: ("invalid tagid", WECOM),
    40071: ("invalid tag name", WECOM),
    40096: ("invalid external_userid", WECOM),
    41001: ("token missing", WECOM),
    43001: ("require GET method", OURS),
    43002: ("require POST method", OURS),
    45056: ("too many tags", OURS),
    45059: ("too many tags on one customer", OURS),
    47001: ("data format error", WECOM),
    84061: ("customer is not a friend of the member", WECOM),
    50000: ("system error", OURS),
}

SYSTEM_ERROR = 50000


def wrong_method(ep: Endpoint) -> VendorError:
    return VendorError(43001 if "GET" in ep.methods else 43002)


def unknown_path(path: str) -> VendorError:
    return VendorError(40066, path)


def new_rid() -> str:
    """Our own request marker (x-request-id only: JuziBot's errmsg carries none)."""
    return uuid.uuid4().hex


def envelope(code: int) -> dict[str, Any]:
    return {"errcode": code, "errmsg": MESSAGES[code][0]}


def code_for(exc: BaseException) -> int:
    """The JuziBot code for a core or wire error; 50000 (system error) for anything unforeseen."""
    match exc:
        case VendorError(code=code) if code in MESSAGES:
            return code
        case BadJSON():  # an empty body too
            return 47001
        case BodyField(reason="missing"):
            return 40058
        case BodyField():  # a field of the wrong type, whatever its name
            return 47001
        case Invalid(field="group_name", reason="too_long"):
            return -3
        case Invalid(field="group_name") | Conflict(kind="group_name"):
            return -1
        case Invalid(field="name", reason="too_long"):
            return -4
        case Invalid(field="name") | Conflict(kind="tag_name"):
            return 40071
        case Invalid(reason="type"):
            return 47001
        case Invalid():
            return 40058
        case NotFound(kind="tag" | "group"):
            return 40068
        case NotFound(kind="member"):
            return 40003
        case NotFound(kind="customer"):
            return 40096
        case NotFound(kind="friendship"):
            return 84061
        case NotFound(kind="app") | Unauthorized(reason="invalid"):
            return 40014
        case Unauthorized(reason="missing"):
            return 41001
        case Forbidden():
            return -2
        case LimitExceeded(limit="body_bytes"):
            return 47001
        case LimitExceeded(limit="tags_per_app"):
            return 45056
        case LimitExceeded(limit="tags_per_subject"):
            return 45059
        case LimitExceeded():
            return 40058
    return SYSTEM_ERROR


def render(exc: BaseException, call: Call) -> tuple[int, dict[str, Any]]:
    """HTTP 200 with JuziBot's envelope for every error (seed: errcode/errmsg always)."""
    return 200, envelope(code_for(exc))
