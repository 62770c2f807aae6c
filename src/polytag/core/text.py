"""Text every store holds: no NUL (PostgreSQL refuses it) and no lone surrogate (not UTF-8)."""

from __future__ import annotations

import re

from polytag.errors import Invalid

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> bool:
    """True when `text` can be stored and sent back as UTF-8 as it is."""
    return "\x00" not in text if text.isascii() else _UNSTORABLE.search(text) is None


def check_text(field: str, value: str) -> str:
    """`value`, or Invalid(field, "bad_char") naming why it cannot be stored."""
    if not storable(value):
        raise Invalid(field, "bad_char", None,
                      f"invalid {field}: text may not hold NUL or a lone surrogate (not UTF-8)")
    return value
