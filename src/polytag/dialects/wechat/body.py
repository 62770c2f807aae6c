"""Reading WeChat request bodies: protobuf-like fields (absent = default) over the shared reader."""

from __future__ import annotations

from typing import Any

from polytag.dialects import Call
from polytag.dialects import _body as shared


def json_body(call: Call) -> dict[str, Any]:
    """The POST body as an object (errors.py: 44002 when empty, 47001 when not an object)."""
    return shared.object_body(call.body)


def optional_body(call: Call) -> dict[str, Any]:
    """A body that may be absent (GET endpoints that also take JSON, getblacklist)."""
    if not call.body.strip():
        return {}
    return json_body(call)


def obj(d: dict[str, Any], key: str) -> dict[str, Any]:
    return shared.mapping(d, key) or {}


def integer(d: dict[str, Any], key: str, default: int = 0) -> int:
    """An integer field in the signed 64-bit range; strings of ASCII digits are accepted (wechatpy
    passes ids through uncast); anything else, a huge number included, is a data format error."""
    n = shared.integer(d, key, digits=True)
    return default if n is None else n


def query(call: Call, key: str, default: str = "") -> str:
    """A query-string parameter, held to the same rule as body strings."""
    v = call.query.get(key)
    return default if v is None else shared.text(key, v)


def string(d: dict[str, Any], key: str, default: str = "") -> str:
    v = shared.string(d, key)
    return default if v is None else v


def strings(d: dict[str, Any], key: str) -> list[str]:
    return shared.strings(d, key) or []


def objects(d: dict[str, Any], key: str) -> list[dict[str, Any]]:
    return shared.objects(d, key) or []
