"""Byte-exact JSON out, lenient JSON in.

Vendors answer compact JSON with raw UTF-8 (no \\u escapes), in the key order they chose;
their clients send bodies with no Content-Type (wechatpy) and sometimes control characters
inside strings, which the vendors' parsers accept.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


class BadJSON(ValueError):
    """The body is not JSON at all."""


def dumps(obj: Any) -> bytes:
    return orjson.dumps(obj)


_LENIENT = json.JSONDecoder(strict=False)


def loads(body: bytes) -> Any:
    """Parse a request body; BadJSON for anything that is not one JSON value.

    orjson takes the common case fast; what it refuses (raw control characters in strings,
    a BOM, NaN) gets a second chance from the lenient stdlib decoder, as the vendors' own
    parsers accept those."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    try:
        return _LENIENT.decode(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BadJSON(str(exc)) from exc
