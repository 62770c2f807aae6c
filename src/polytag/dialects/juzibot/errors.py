"""JuziBot error codes and messages (the one table), and `render(exc)` into `{errcode, errmsg}`.

-1..-4 are the seed page's own; where the seed gives no code we answer with the WeCom code of
the rule underneath (spec C2), and where WeCom has none either, with a code of our choosing.
"""

from __future__ import annotations

import uuid
from typing import Any

from polytag.dialects import Call, Endpoint, VendorError
from polytag.dialects._body import BodyField
from polytag.dialects._codes import first_code, when
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


# the first row an error fits gives its code (polytag.dialects._codes)
CODES = [
    when(BadJSON, 47001),  # an empty body too
    when(BodyField, 40058, reason="missing"),
    when(BodyField, 47001),  # a field of the wrong type, whatever its name
    when(Invalid, -3, field="group_name", reason="too_long"), when(Invalid, -1, field="group_name"),
    when(Invalid, -4, field="name", reason="too_long"), when(Invalid, 40071, field="name"),
    when(Invalid, 47001, reason="type"), when(Invalid, 40058),
    when(Conflict, -1, kind="group_name"), when(Conflict, 40071, kind="tag_name"),
    when(NotFound, 40068, kind=("tag", "group")), when(NotFound, 40003, kind="member"),
    when(NotFound, 40096, kind="customer"), when(NotFound, 84061, kind="friendship"),
    when(NotFound, 40014, kind="app"),
    when(Unauthorized, 40014, reason="invalid"), when(Unauthorized, 41001, reason="missing"),
    when(Forbidden, -2),
    when(LimitExceeded, 47001, limit="body_bytes"), when(LimitExceeded, 45056, limit="tags_per_app"),
    when(LimitExceeded, 45059, limit="tags_per_subject"), when(LimitExceeded, 40058),
]


def code_for(exc: BaseException) -> int:
    """The JuziBot code for a core or wire error; 50000 (system error) for anything unforeseen."""
    if isinstance(exc, VendorError) and exc.code in MESSAGES:
        return exc.code
    return first_code(CODES, exc, SYSTEM_ERROR)


def render(exc: BaseException, call: Call) -> tuple[int, dict[str, Any]]:
    """HTTP 200 with JuziBot's envelope for every error (seed: errcode/errmsg always)."""
    return 200, envelope(code_for(exc))
