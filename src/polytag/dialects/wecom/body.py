"""Reading WeCom request bodies and queries. Neutral errors only (errors.py picks the codes):
a body that is not a JSON object or a field of the wrong type is Invalid(reason="type"),
a required field that is absent or empty is Invalid(reason="missing")."""

from __future__ import annotations

from typing import Any

from polytag.dialects import Call
from polytag.dialects._wire import loads
from polytag.errors import Invalid


def json_body(call: Call) -> dict[str, Any]:
    """The POST body as an object; an empty body is an empty object (wechatpy's optionaldict
    drops absent fields, so `{}` is how a bare call looks)."""
    if not call.body.strip():
        return {}
    obj = loads(call.body)
    if not isinstance(obj, dict):
        raise Invalid("body", "type", detail="body is not an object")
    return obj


def query(call: Call, key: str) -> str:
    """A required query parameter."""
    value = call.query.get(key, "")
    if not value:
        raise Invalid(key, "missing")
    return value


def opt_string(d: dict[str, Any], key: str) -> str | None:
    v = d.get(key)
    if v is None:
        return None
    if not isinstance(v, str):
        raise Invalid(key, "type", v)
    return v


def string(d: dict[str, Any], key: str) -> str:
    """A required, non-empty string."""
    v = opt_string(d, key)
    if not v:
        raise Invalid(key, "missing")
    return v


def opt_int(d: dict[str, Any], key: str) -> int | None:
    v = d.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int):
        raise Invalid(key, "type", v)
    return v


def strings(d: dict[str, Any], key: str) -> list[str]:
    v = d.get(key)
    if v is None:
        return []
    if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
        raise Invalid(key, "type", v)
    return v


def objects(d: dict[str, Any], key: str) -> list[dict[str, Any]]:
    v = d.get(key)
    if v is None:
        return []
    if not isinstance(v, list) or not all(isinstance(s, dict) for s in v):
        raise Invalid(key, "type", v)
    return v
