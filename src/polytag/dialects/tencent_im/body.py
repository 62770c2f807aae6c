"""Reading IM request bodies: one JSON object; a missing or mistyped field is Invalid(field, ...).

The renderer turns Invalid into the family's "bad body" code (90001 for `all_member_push`,
70402 for the account APIs) unless the field has its own documented code (MsgRandom: 90005).
"""

from __future__ import annotations

from typing import Any

from polytag.dialects import Call
from polytag.dialects._wire import BadJSON, loads
from polytag.errors import Invalid

UINT32_MAX = 4294967295


def json_body(call: Call) -> dict[str, Any]:
    """The body as an object; APIs without parameters still need `{}` (spec B1)."""
    if not call.body.strip():
        raise BadJSON("empty body")
    obj = loads(call.body)
    if not isinstance(obj, dict):
        raise Invalid("body", "type", obj)
    return obj


def _get(d: dict[str, Any], key: str, required: bool) -> Any:
    if key not in d or d[key] is None:
        if required:
            raise Invalid(key, "missing")
        return None
    return d[key]


def string(d: dict[str, Any], key: str, required: bool = True) -> str:
    v = _get(d, key, required)
    if v is None:
        return ""
    if not isinstance(v, str):
        raise Invalid(key, "type", v)
    return v


def strings(d: dict[str, Any], key: str, required: bool = True) -> list[str]:
    v = _get(d, key, required)
    if v is None:
        return []
    if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
        raise Invalid(key, "type", v)
    return v


def objects(d: dict[str, Any], key: str, required: bool = True) -> list[dict[str, Any]]:
    v = _get(d, key, required)
    if v is None:
        return []
    if not isinstance(v, list) or not all(isinstance(s, dict) for s in v):
        raise Invalid(key, "type", v)
    return v


def mapping(d: dict[str, Any], key: str, required: bool = True) -> dict[str, Any]:
    v = _get(d, key, required)
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise Invalid(key, "type", v)
    return v


def text_map(d: dict[str, Any], key: str, required: bool = True) -> dict[str, str]:
    """An object of string values (attribute names or values)."""
    v = mapping(d, key, required)
    if not all(isinstance(x, str) for x in v.values()):
        raise Invalid(key, "type", v)
    return v


def uint32(d: dict[str, Any], key: str, required: bool = True, default: int = 0) -> int:
    """An integer field in 0..2^32-1; a bool, float or string is the field's own error."""
    v = _get(d, key, required)
    if v is None:
        return default
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= UINT32_MAX:
        raise Invalid(key, "type", v)
    return v


def user_items(d: dict[str, Any], key: str, inner: str, kind: str) -> list[tuple[str, Any]]:
    """`[{"To_Account": "...", inner: <list of strings | object of strings>}]` as pairs."""
    out: list[tuple[str, Any]] = []
    for item in objects(d, key):
        account = string(item, "To_Account")
        out.append((account, strings(item, inner) if kind == "list" else text_map(item, inner)))
    return out
