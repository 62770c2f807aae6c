"""Vendor-neutral errors raised by the core; each front end renders them in its own envelope.

The fields are data, not prose: a dialect's `errors.py` maps (class, kind/field/limit) to the
vendor's code and message, so no vendor number ever appears outside its dialect.
"""

from __future__ import annotations


class PolytagError(Exception):
    """Base of every error the core raises on purpose."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.__class__.__name__)
        self.detail = detail


class NotFound(PolytagError):
    """`kind` ("app", "tag", "subject", "group", ...) with `key` does not exist in this app."""

    def __init__(self, kind: str, key: object = None, detail: str = "") -> None:
        super().__init__(detail or f"{kind} not found: {key!r}")
        self.kind, self.key = kind, key


class Conflict(PolytagError):
    """A uniqueness rule: `kind` ("tag_name", "group_name", ...) already holds `key`."""

    def __init__(self, kind: str, key: object = None, detail: str = "") -> None:
        super().__init__(detail or f"{kind} already exists: {key!r}")
        self.kind, self.key = kind, key


class Invalid(PolytagError):
    """A value broke a rule of form: `field` is wrong for `reason` ("empty", "too_long", "type", ...)."""

    def __init__(self, field: str, reason: str, value: object = None, detail: str = "") -> None:
        super().__init__(detail or f"invalid {field}: {reason}")
        self.field, self.reason, self.value = field, reason, value


class LimitExceeded(PolytagError):
    """A counted limit ("tags_per_app", "tags_per_subject", "batch:tagging", ...) would be broken."""

    def __init__(self, limit: str, value: int, allowed: int, detail: str = "") -> None:
        super().__init__(detail or f"{limit}: {value} > {allowed}")
        self.limit, self.value, self.allowed = limit, value, allowed


class Unauthorized(PolytagError):
    """Credentials missing or wrong; `reason` names which ("missing", "expired", "superseded", ...)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail or f"unauthorized: {reason}")
        self.reason = reason


class Forbidden(PolytagError):
    """The caller may not do this: `reason` ("reserved_tag", "other_app", "not_admin", ...)."""

    def __init__(self, reason: str, key: object = None, detail: str = "") -> None:
        super().__init__(detail or f"forbidden: {reason}")
        self.reason, self.key = reason, key


class Unavailable(PolytagError):
    """The store could not complete the call (busy, lost connection); safe to retry."""
