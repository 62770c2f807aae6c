"""Reading JuziBot request bodies: a JSON object; a wrong type is 47001, a missing field 40058."""

from __future__ import annotations

from typing import Any

from polytag.dialects import Call, VendorError
from polytag.dialects._wire import loads

DATA_FORMAT_ERROR = 47001
INVALID_PARAMETER = 40058


def json_body(call: Call) -> dict[str, Any]:
    """The POST body as an object: 47001 when empty or not a JSON object."""
    if not call.body.strip():
        raise VendorError(DATA_FORMAT_ERROR, "empty body")
    obj = loads(call.body)
    if not isinstance(obj, dict):
        raise VendorError(DATA_FORMAT_ERROR, "body is not an object")
    return obj


def opt_string(d: dict[str, Any], key: str) -> str | None:
    v = d.get(key)
    if v is None:
        return None
    if not isinstance(v, str):
        raise VendorError(DATA_FORMAT_ERROR, f"{key} is not a string")
    return v


def string(d: dict[str, Any], key: str) -> str:
    """A required, non-empty string."""
    v = opt_string(d, key)
    if not v:
        raise VendorError(INVALID_PARAMETER, f"{key} is missing")
    return v


def opt_int(d: dict[str, Any], key: str) -> int | None:
    v = d.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int):
        raise VendorError(DATA_FORMAT_ERROR, f"{key} is not an integer")
    return v


def strings(d: dict[str, Any], key: str, required: bool = False) -> list[str]:
    v = d.get(key)
    if v is None:
        if required:
            raise VendorError(INVALID_PARAMETER, f"{key} is missing")
        return []
    if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
        raise VendorError(DATA_FORMAT_ERROR, f"{key} is not a list of strings")
    return v


def objects(d: dict[str, Any], key: str) -> list[dict[str, Any]]:
    v = d.get(key)
    if v is None:
        return []
    if not isinstance(v, list) or not all(isinstance(s, dict) for s in v):
        raise VendorError(DATA_FORMAT_ERROR, f"{key} is not a list of objects")
    return v
