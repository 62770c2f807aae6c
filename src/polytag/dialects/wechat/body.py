"""Reading WeChat request bodies: protobuf-like fields (absent = default), wrong type = 47001."""

from __future__ import annotations

from typing import Any

from polytag.dialects import Call, VendorError
from polytag.dialects._wire import INT64, decimal, loads

DATA_FORMAT_ERROR = 47001


def json_body(call: Call) -> dict[str, Any]:
    """The POST body as an object: 44002 when empty, 47001 when not a JSON object."""
    if not call.body.strip():
        raise VendorError(44002)
    obj = loads(call.body)
    if not isinstance(obj, dict):
        raise VendorError(DATA_FORMAT_ERROR, "body is not an object")
    return obj


def optional_body(call: Call) -> dict[str, Any]:
    """A body that may be absent (GET endpoints that also take JSON, getblacklist)."""
    if not call.body.strip():
        return {}
    return json_body(call)


def obj(d: dict[str, Any], key: str) -> dict[str, Any]:
    v = d.get(key)
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise VendorError(DATA_FORMAT_ERROR, f"{key} is not an object")
    return v


def integer(d: dict[str, Any], key: str, default: int = 0) -> int:
    """An integer field in the signed 64-bit range; strings of ASCII digits are accepted (wechatpy
    passes ids through uncast); anything else, a huge number included, is a data format error."""
    v = d.get(key)
    if v is None:
        return default
    if isinstance(v, bool):
        raise VendorError(DATA_FORMAT_ERROR, f"{key} is a boolean")
    if isinstance(v, int) and INT64[0] <= v <= INT64[1]:
        return v
    n = decimal(v) if isinstance(v, str) else None
    if n is None:
        raise VendorError(DATA_FORMAT_ERROR, f"{key} is not an integer")
    return n


def _utf8(s: str) -> bool:
    """False for text no store can hold: JSON lets `"\\ud800"` (a lone surrogate) and `"\\u0000"`
    through the parser; SQLite cannot encode the first, PostgreSQL refuses NUL in text."""
    if "\x00" in s:
        return False
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def query(call: Call, key: str, default: str = "") -> str:
    """A query-string parameter, held to the same rule as body strings (47001)."""
    v = call.query.get(key)
    if v is None:
        return default
    if not _utf8(v):
        raise VendorError(DATA_FORMAT_ERROR, f"{key} is not text")
    return v


def string(d: dict[str, Any], key: str, default: str = "") -> str:
    v = d.get(key)
    if v is None:
        return default
    if not isinstance(v, str) or not _utf8(v):
        raise VendorError(DATA_FORMAT_ERROR, f"{key} is not a string")
    return v


def strings(d: dict[str, Any], key: str) -> list[str]:
    v = d.get(key)
    if v is None:
        return []
    # one check of the joined text: the same verdict as per string, at C speed (hot path);
    # join() itself refuses a list holding anything but strings
    try:
        joined = "".join(v) if isinstance(v, list) else None
    except TypeError:
        joined = None
    if joined is None or not _utf8(joined):
        raise VendorError(DATA_FORMAT_ERROR, f"{key} is not a list of strings")
    return v


def objects(d: dict[str, Any], key: str) -> list[dict[str, Any]]:
    v = d.get(key)
    if v is None:
        return []
    if not isinstance(v, list) or not all(isinstance(s, dict) for s in v):
        raise VendorError(DATA_FORMAT_ERROR, f"{key} is not a list of objects")
    return v
