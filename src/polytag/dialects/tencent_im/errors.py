"""Tencent IM error codes and ErrorInfo texts (the one table), and `render(exc)` into the IM envelope.

Every answer is HTTP 200 with ActionStatus/ErrorCode/ErrorInfo. Key order follows the doc
samples: ActionStatus, ErrorInfo, ErrorCode for `all_member_push`; ActionStatus, ErrorCode,
ErrorInfo for the account APIs and everything else (spec B1). Only 90001 and 70107 have a
known literal ErrorInfo; the others are the doc's description, kept here in one place.
"""

from __future__ import annotations

import secrets
from typing import Any

from polytag.dialects import Call, Endpoint, VendorError
from polytag.dialects._codes import Row, first_code, when
from polytag.dialects._wire import BadJSON
from polytag.errors import Conflict, Forbidden, Invalid, LimitExceeded, NotFound, Unauthorized

PUSH_FAMILY = "all_member_push"
TIMPUSH_FAMILY = "timpush"  # the successor family: same envelope order and codes (spec B3)
PUSH_FAMILIES = (PUSH_FAMILY, TIMPUSH_FAMILY)

# code -> (ErrorInfo, source)
MESSAGES: dict[int, tuple[str, str]] = {
    40601: ("The length of the field value exceeds 500 bytes.", "spec B4 (account_import)"),
    60002: ("HTTP parsing error. Please check the URL format.", "spec B5"),
    60003: ("JSON parsing error of the HTTP request. Please check the JSON format.", "spec B5"),
    60004: ("Account or signature error in the request URL or JSON packet.", "spec B5"),
    60006: ("SDKAppID is invalid. Please check whether it is valid.", "spec B5"),
    60007: ("The REST API call frequency exceeds the limit. Please reduce the request frequency.", "spec B5; seeds 002/004"),
    60009: ("Incorrect request resource. Please check the request URL.", "spec B5"),
    60012: ("SDKAppID is required for REST API calls.", "spec B5"),
    70001: ("UserSig has expired. Please generate a new one.", "spec B5"),
    70003: ("UserSig is invalid and cannot be parsed.", "spec B5"),
    70009: ("UserSig verification failed.", "spec B5"),
    70013: ("The identifier in the request does not match the identifier in the UserSig.", "spec B5"),
    70014: ("The SDKAppID in the request does not match the SDKAppID in the UserSig.", "spec B5"),
    70020: ("SDKAppID not found. Please check the SDKAppID.", "spec B5"),
    70107: ("Err_TLS_PT_Open_Login_Account_Not_Exist", "spec B1/B4 (account_delete per-item text)"),
    70398: ("The number of accounts exceeds the limit.", "spec B4"),
    70399: ("The deleted UserID cannot be imported again within 3 months.", "spec B4"),
    70402: ("Invalid parameter. Please check the required fields.", "spec B4"),
    70403: ("The request requires app admin permissions.", "spec B4"),
    70500: ("Internal server error. Please try again.", "spec B4"),
    90001: ("Fail to Parse json data of body, Please check it", "spec B1 (observed); seeds 002/004"),
    90005: ("MsgRandom is missing or is not an integer.", "spec B2 (im_push)"),
    90009: ("The request requires app admin permissions.", "seeds 002/004; spec B2"),
    90018: ("The number of requested accounts exceeds the limit.", "seeds 002/004; spec B2"),
    90020: ("The tag length exceeds 50 bytes.", "spec B2 (push error table)"),
    90022: ("The same tag appears in both TagsOr and TagsAnd.", "spec B2 (push error table)"),
    90024: ("The interval between two pushes is less than 1 second.", "spec B2 (push error table)"),
    90026: ("Invalid MsgLifeTime.", "spec B2 (push error table)"),
    90032: ("The number of tags exceeds the limit.", "spec B2 (push error table); seed 004"),
    90033: ("Invalid attribute.", "spec B2"),
    90039: ("Tag conditions and attribute conditions cannot be used together.", "spec B2 (push error table)"),
    90040: ("The condition contains an empty tag.", "spec B2 (push error table)"),
    90045: ("The push to all users feature is not enabled.", "spec B2 (push error table)"),
    90047: ("The number of pushes exceeds the daily limit.", "spec B2 (push error table)"),
    90056: ("The request body exceeds 10 KB.", "spec B2 (push error table)"),
    91000: ("Internal service error. Please try again.", "seeds 002/004; spec B2"),
}


NOT_IMPORTED = 70107


def wrong_method(ep: Endpoint) -> VendorError:
    return VendorError(60002, "POST only")


def unknown_path(path: str) -> VendorError:
    return VendorError(60009, path)


def result_item(found: bool, **tail: Any) -> dict[str, Any]:
    """One item of an account API's ResultItem: OK, or "not imported"."""
    code = 0 if found else NOT_IMPORTED
    return {"ResultCode": code, "ResultInfo": MESSAGES[code][0] if code else "", **tail}


def new_rid() -> str:
    return secrets.token_hex(8)


def family(call: Call | None) -> str:
    return call.endpoint.path.split("/", 1)[0] if call is not None else ""


def envelope(fam: str, code: int = 0, **extra: Any) -> dict[str, Any]:
    status = "OK" if code == 0 else "FAIL"
    info = MESSAGES[code][0] if code else ""
    if fam in PUSH_FAMILIES:
        return {"ActionStatus": status, "ErrorInfo": info, "ErrorCode": code, **extra}
    return {"ActionStatus": status, "ErrorCode": code, "ErrorInfo": info, **extra}


_AUTH = {
    "no_sdkappid": 60012, "bad_sdkappid": 60006, "unknown_app": 70020, "no_account": 60004,
    "bad_query": 60002, "malformed": 70003, "bad_signature": 70009, "identifier": 70013,
    "sdkappid": 70014, "expired": 70001,
}
_PUSH_FIELDS = {"MsgRandom": 90005, "MsgLifeTime": 90026, "attribute": 90033}
_LIMITS = {
    "rate": 60007, "push_interval": 90024, "pushes_per_day": 90047, "batch:tags_per_request": 90032,
    "batch:condition_tags": 90032, "tags_per_subject": 90032, "tags_per_app": 90032,
    "accounts_per_app": 70398, "push_body_bytes": 90056,
}


def _codes(push: bool) -> list[Row]:
    """The rows of the push families' codes, or of every other family's (polytag.dialects._codes)."""
    return [
        *(when(Unauthorized, code, reason=reason) for reason, code in _AUTH.items()), when(Unauthorized, 70009),
        when(Forbidden, 90009 if push else 70403, reason="not_admin"), when(Forbidden, 90045, reason="push_disabled"),
        when(Forbidden, 70107, reason="other_app"),
        when(BadJSON, 90001 if push else 60003),
        when(NotFound, 70107, kind="subject"), when(NotFound, 90033, kind="attribute"),
        when(Conflict, 70399, kind="deleted_account"),
        *(when(Invalid, code, field=field) for field, code in _PUSH_FIELDS.items() if push),
        when(Invalid, 90020, field="name", reason="too_long"), when(Invalid, 90040, field="name", reason="empty"),
        when(Invalid, 90022, field="condition", reason="tag_in_both"),
        when(Invalid, 90039, field="condition", reason="tags_and_attrs"),
        when(Invalid, 40601, field=("Nick", "FaceUrl"), reason="too_long"),
        when(Invalid, 90001 if push else 70402),
        when(LimitExceeded, 60002, limit="body_bytes"),  # the request over the body cap: an HTTP-level refusal
        *(when(LimitExceeded, code, limit=limit) for limit, code in _LIMITS.items()),
        when(LimitExceeded, 90018 if push else 70402, limit="batch:accounts"),
    ]


PUSH_CODES, CODES = _codes(push=True), _codes(push=False)


def code_for(exc: BaseException, fam: str) -> int:
    """The IM code for a core or wire error in an API family; the family's internal error otherwise."""
    if isinstance(exc, VendorError):
        return exc.code
    if fam in PUSH_FAMILIES:
        return first_code(PUSH_CODES, exc, 91000)
    return first_code(CODES, exc, 70500)


def render(exc: BaseException, call: Call) -> tuple[int, dict[str, Any]]:
    """HTTP 200 and the IM envelope for every error (spec B1)."""
    fam = family(call)
    return 200, envelope(fam, code_for(exc, fam))
