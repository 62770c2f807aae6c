"""Reading JuziBot request bodies over the shared reader: a required string must be non-empty."""

from __future__ import annotations

from typing import Any

from polytag.dialects import Call
from polytag.dialects import _body as shared


def json_body(call: Call) -> dict[str, Any]:
    """The POST body as an object (errors.py: 47001 when empty or not an object)."""
    return shared.object_body(call.body)


def opt_string(d: dict[str, Any], key: str) -> str | None:
    return shared.string(d, key)


def string(d: dict[str, Any], key: str) -> str:
    """A required, non-empty string."""
    v = shared.string(d, key)
    if not v:
        raise shared.BodyField(key, "missing")
    return v


def opt_int(d: dict[str, Any], key: str) -> int | None:
    return shared.integer(d, key, bounds=None)


def strings(d: dict[str, Any], key: str, required: bool = False) -> list[str]:
    return shared.strings(d, key, required) or []


def objects(d: dict[str, Any], key: str) -> list[dict[str, Any]]:
    return shared.objects(d, key) or []
