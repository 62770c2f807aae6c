"""Reading request bodies, the same way for every dialect, with neutral errors.

A body is one JSON object; a field is absent when missing or null. What is wrong is said
with data, never a vendor code: `EmptyBody` (no body where one is needed), `BadJSON` (not
JSON), `BodyField(field, "missing" | "type")` (a required field absent, a field of the wrong
type, or text no store can hold). Each dialect's `errors.py` maps them to its own codes.
"""

from __future__ import annotations

from typing import Any

from polytag.dialects._wire import INT64, BadJSON, decimal, loads, storable_text
from polytag.errors import Invalid


class EmptyBody(BadJSON):
    """The request has no body (or only blanks) where one is needed."""


class BodyField(Invalid):
    """A field of the body or query is missing (`reason` "missing") or of the wrong type ("type")."""

    def __init__(self, field: str, reason: str, value: object = None, what: str = "") -> None:
        super().__init__(field, reason, value, f"{field} is missing" if reason == "missing" else
                         f"{field} is not {what or 'of the right type'}")


def object_body(raw: bytes) -> dict[str, Any]:
    """The body as an object: EmptyBody, BadJSON, or BodyField("body", "type")."""
    if not raw.strip():
        raise EmptyBody("empty body")
    obj = loads(raw)
    if not isinstance(obj, dict):
        raise BodyField("body", "type", None, "an object")
    return obj


def value(d: dict[str, Any], key: str, required: bool = False) -> Any:
    """The field's value; None when absent or null (BodyField "missing" if it is `required`)."""
    v = d.get(key)
    if v is None and required:
        raise BodyField(key, "missing")
    return v


def text(key: str, v: Any) -> str:
    """`v` when it is text a store can hold (no NUL, no lone surrogate)."""
    if not isinstance(v, str) or not storable_text(v):
        raise BodyField(key, "type", v, "a string")
    return v


def string(d: dict[str, Any], key: str, required: bool = False) -> str | None:
    v = value(d, key, required)
    return None if v is None else text(key, v)


def strings(d: dict[str, Any], key: str, required: bool = False) -> list[str] | None:
    v = value(d, key, required)
    if v is None:
        return None
    # one check of the joined text: the same verdict as per string, at C speed (hot path);
    # join() itself refuses a list holding anything but strings
    try:
        joined = "".join(v) if isinstance(v, list) else None
    except TypeError:
        joined = None
    if joined is None or not storable_text(joined):
        raise BodyField(key, "type", v, "a list of strings")
    return v


def objects(d: dict[str, Any], key: str, required: bool = False) -> list[dict[str, Any]] | None:
    v = value(d, key, required)
    if v is not None and (not isinstance(v, list) or not all(isinstance(s, dict) for s in v)):
        raise BodyField(key, "type", v, "a list of objects")
    return v


def mapping(d: dict[str, Any], key: str, required: bool = False) -> dict[str, Any] | None:
    v = value(d, key, required)
    if v is not None and not isinstance(v, dict):
        raise BodyField(key, "type", v, "an object")
    return v


def integer(d: dict[str, Any], key: str, required: bool = False, bounds: tuple[int, int] | None = INT64,
            digits: bool = False) -> int | None:
    """An integer field within `bounds` (None: any); with `digits`, a string of ASCII digits too
    (some clients pass ids through uncast). A boolean is never an integer."""
    v = value(d, key, required)
    if v is None:
        return None
    n = v if isinstance(v, int) and not isinstance(v, bool) else None
    if n is None and digits and isinstance(v, str):
        n = decimal(v)
    if n is None or (bounds is not None and not bounds[0] <= n <= bounds[1]):
        raise BodyField(key, "type", v, "an integer")
    return n
