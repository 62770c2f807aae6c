"""Limits an app lives under, and the bounds every request or document lives under.

Each dialect ships a preset of `Limits`; the app keeps a copy it may override. `BOUNDS` are the
same for every app: how much one seed entry, one audience expression or one integer may ask for.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from polytag.errors import Invalid

log = logging.getLogger("polytag.limits")

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1  # what an INTEGER (SQLite) or BIGINT (PostgreSQL) holds


@dataclass(frozen=True)
class Bounds:
    """Sizes any caller may ask for, whatever the app (a seed, an expression, an integer column)."""

    seed_generate: int = 10_000_000   # subjects one `{generate: N}` of a seed entry makes
    expr_chars: int = 65_536          # characters of an audience expression's text
    expr_terms: int = 10_000          # tag references and operators in one audience expression
    count_max: int = 2**31 - 1        # any counted limit an app sets (tags_per_app, batch sizes, ...)


BOUNDS = Bounds()


@dataclass(frozen=True)
class Limits:
    """Counted limits, enforced by the core. None means unlimited.

    Order of enforcement for a membership change (documented in docs/compat/*):
    batch size, then the tag, then each subject, then per-subject caps, then per-app caps.
    """

    tags_per_app: int | None = None
    tags_per_subject: int | None = None
    tag_name_max: int = 64
    tag_name_unit: Literal["bytes", "chars"] = "chars"
    page_size: int = 10_000
    tag_delete_max_members: int | None = None
    batch: Mapping[str, int] = field(default_factory=dict)
    # messages sent to an audience (core/sends.py): how many sends a period allows (None: no
    # cap), the period ("day" or "month", calendar, UTC+8), the fewest ids a listed send takes
    # (its most: batch["send"]) and the longest caller de-duplication key, in UTF-8 bytes
    sends_per_period: int | None = None
    send_period: Literal["day", "month"] = "day"
    send_list_min: int = 1
    send_key_max: int = 64

    def batch_max(self, kind: str) -> int | None:
        return self.batch.get(kind)

    def measure(self, name: str) -> int:
        return len(name.encode("utf-8")) if self.tag_name_unit == "bytes" else len(name)

    def with_overrides(self, overrides: Any) -> Limits:
        """These limits with `overrides` applied; a stored value that is not valid (an older
        version let anything in) is skipped with a warning, so the app keeps working."""
        if not overrides:
            return self
        if not isinstance(overrides, Mapping):
            log.warning("ignoring stored limits that are not an object: %r", overrides)
            return self
        known: dict[str, Any] = {}
        for key, value in overrides.items():
            if key not in self.__dataclass_fields__:
                continue
            try:
                known[key] = check_limit(key, value)
            except Invalid as exc:
                log.warning("ignoring stored limit %s: %s", key, exc.detail)
        if "batch" in known:
            known["batch"] = {**self.batch, **known["batch"]}
        return replace(self, **known)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["batch"] = dict(self.batch)
        return d


NATIVE_BATCH_MAX = 10_000
# the native preset (no vendor face): no cap on tags per app or per subject, names up to 128
# characters, pages and membership batches up to 10,000
NATIVE = Limits(tag_name_max=128, page_size=10_000, batch={"memberships": NATIVE_BATCH_MAX})

COUNTS = ("tags_per_app", "tags_per_subject", "tag_delete_max_members", "sends_per_period")  # int >= 0, or None
SIZES = ("tag_name_max", "page_size", "send_list_min", "send_key_max")  # int >= 1
# keys of a `limits:` object that are not Limits fields but are read elsewhere
OTHER_KEYS = {"daily_quotas": "the control plane's daily call quotas, {api: calls per day}"}


def limit_keys() -> list[str]:
    return sorted([*Limits.__dataclass_fields__, *OTHER_KEYS])


def check_limits(overrides: Any) -> dict[str, Any]:
    """`overrides` (a `limits:` object from a request or a seed) checked: known keys, typed and in
    range; Invalid("limits", ...) naming the key otherwise."""
    if overrides is None:
        return {}
    if not isinstance(overrides, Mapping):
        raise Invalid("limits", "type", None, "limits must be an object")
    for key in overrides:
        if key not in Limits.__dataclass_fields__ and key not in OTHER_KEYS:
            raise Invalid("limits", "unknown_key", _shown(key),
                          f"unknown limit {_shown(key)!r}: valid keys are {', '.join(limit_keys())}")
    return {k: check_limit(k, v) for k, v in overrides.items()}


def check_limit(key: str, value: Any) -> Any:
    """One limit's value, or Invalid naming the key and what it must be."""
    top = BOUNDS.count_max
    if key in COUNTS:
        if value is None:
            return None
        return _int(key, value, 0, top, "an integer >= 0, or null for unlimited")
    if key in SIZES:
        return _int(key, value, 1, top, "an integer >= 1")
    if key == "tag_name_unit":
        if value not in ("bytes", "chars"):
            raise Invalid("limits", "type", None, f"limit {key!r} must be \"bytes\" or \"chars\"")
        return value
    if key == "send_period":
        if value not in ("day", "month"):
            raise Invalid("limits", "type", None, f"limit {key!r} must be \"day\" or \"month\"")
        return value
    if key in ("batch", "daily_quotas"):
        low = 1 if key == "batch" else 0
        if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
            raise Invalid("limits", "type", None, f"limit {key!r} must be an object of integers")
        return {k: _int(f"{key}.{k}", v, low, top, f"an integer >= {low}") for k, v in value.items()}
    raise Invalid("limits", "unknown_key", _shown(key), f"unknown limit {_shown(key)!r}")


def _int(key: str, value: Any, low: int, high: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Invalid("limits", "range" if isinstance(value, int) and not isinstance(value, bool) else "type",
                      None, f"limit {key!r} must be {what} (at most {high})")
    return value


def _shown(key: Any) -> str:
    text = str(key)
    return text if len(text) <= 64 else text[:61] + "..."
