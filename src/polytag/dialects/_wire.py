"""Byte-exact JSON out, lenient JSON in.

Vendors answer compact JSON with raw UTF-8 (no \\u escapes), in the key order they chose;
their clients send bodies with no Content-Type (wechatpy) and sometimes control characters
inside strings, which the vendors' parsers accept.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson


class BadJSON(ValueError):
    """The body is not JSON at all."""


def dumps(obj: Any) -> bytes:
    return orjson.dumps(obj)


_LENIENT = json.JSONDecoder(strict=False)


def loads(body: bytes) -> Any:
    """Parse a request body; BadJSON for anything that is not one JSON value, or that holds
    text no store can hold.

    orjson takes the common case fast; what it refuses (raw control characters in strings,
    a BOM, NaN) gets a second chance from the lenient stdlib decoder, as the vendors' own
    parsers accept those."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        value = _lenient(body)
    else:
        if b"\\u0000" not in body:
            return value
    _storable(value)
    return value


def parse(body: bytes) -> Any:
    """The JSON value of a body read exactly as leniently as `loads` reads it, without the check
    of what a store can hold (the request journal masks what the dialect would have read)."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return _lenient(body)


def _lenient(body: bytes) -> Any:
    try:
        return _LENIENT.decode(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BadJSON(str(exc)) from exc


def _storable(value: Any) -> None:
    """BadJSON for text no store can hold: a lone surrogate (`"\\ud800"`, not UTF-8) or NUL
    (PostgreSQL refuses it in text). Only bodies that need it are walked."""
    try:
        text = json.dumps(value, ensure_ascii=False)
        text.encode("utf-8")
    except (UnicodeEncodeError, ValueError, RecursionError) as exc:
        raise BadJSON(f"not storable text: {exc}") from exc
    if "\\u0000" in text:
        raise BadJSON("NUL in text")


def storable_text(text: str) -> bool:
    """True for query-string values a store can hold (no NUL, no lone surrogate)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_DECIMAL = re.compile(r"[ \t]*(-?[0-9]{1,19})[ \t]*")  # ASCII digits only: never "²", "１００" or "--1"
INT64 = (-(2**63), 2**63 - 1)


def decimal(text: str) -> int | None:
    """The integer a query or JSON string spells in ASCII digits (an optional "-", blanks around),
    within a signed 64-bit range; None for anything else. Python's int() would take full-width and
    other Unicode digits, and raise past 4,300 digits: a client's text never reaches it unchecked."""
    m = _DECIMAL.fullmatch(text)
    if m is None:
        return None
    n = int(m.group(1))
    return n if INT64[0] <= n <= INT64[1] else None
