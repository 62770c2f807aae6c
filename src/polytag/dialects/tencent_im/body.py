"""Reading IM request bodies over the shared reader: fields are required unless said otherwise.

The renderer turns the shared reader's errors into the family's "bad body" code (90001 for
`all_member_push`, 70402 for the account APIs) unless the field has its own documented code
(MsgRandom: 90005).
"""

from __future__ import annotations

from typing import Any

from polytag.dialects import Call
from polytag.dialects import _body as shared

UINT32 = (0, 4294967295)


def json_body(call: Call) -> dict[str, Any]:
    """The body as an object; APIs without parameters still need `{}` (spec B1)."""
    return shared.object_body(call.body)


def string(d: dict[str, Any], key: str, required: bool = True) -> str:
    return shared.string(d, key, required) or ""


def strings(d: dict[str, Any], key: str, required: bool = True) -> list[str]:
    return shared.strings(d, key, required) or []


def objects(d: dict[str, Any], key: str, required: bool = True) -> list[dict[str, Any]]:
    return shared.objects(d, key, required) or []


def mapping(d: dict[str, Any], key: str, required: bool = True) -> dict[str, Any]:
    return shared.mapping(d, key, required) or {}


def text_map(d: dict[str, Any], key: str, required: bool = True) -> dict[str, str]:
    """An object of string values (attribute names or values)."""
    v = mapping(d, key, required)
    if not all(isinstance(x, str) for x in v.values()):
        raise shared.BodyField(key, "type", v, "an object of strings")
    return v


def uint32(d: dict[str, Any], key: str, required: bool = True, default: int = 0) -> int:
    """An integer field in 0..2^32-1; a bool, float or string is the field's own error."""
    n = shared.integer(d, key, required, bounds=UINT32)
    return default if n is None else n


def user_items(d: dict[str, Any], key: str, inner: str, kind: str) -> list[tuple[str, Any]]:
    """`[{"To_Account": "...", inner: <list of strings | object of strings>}]` as pairs."""
    out: list[tuple[str, Any]] = []
    for item in objects(d, key):
        account = string(item, "To_Account")
        out.append((account, strings(item, inner) if kind == "list" else text_map(item, inner)))
    return out
