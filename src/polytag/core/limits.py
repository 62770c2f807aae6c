"""Limits an app lives under, and the bounds every request or document lives under.

Every limit, quota, rate and body cap is one typed field of `Limits`, described by its `Spec`
(what values it takes, how an override merges). Each dialect ships a preset; the app keeps a
copy it may override (seed `limits:`, the native API, a snapshot), checked against the specs:
an unknown key or a value of the wrong type or range is refused, naming the key. `BOUNDS` are
the same for every app: how much one seed entry, one audience expression or one integer may ask.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
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

Kind = Literal["count", "size", "int", "seconds", "unit", "period", "flag", "table"]


@dataclass(frozen=True)
class Spec:
    """What one limit takes. count: int >= 0 or null (unlimited); size: int >= 1; int: int >= low;
    seconds: a number >= 0; unit: "bytes" | "chars"; flag: a boolean; table: {key: int >= low}.
    A table override merges into the preset's table, except that one holding "*" (the rest of
    the keys) replaces it: the override then decides every key it does not name."""

    kind: Kind
    what: str
    low: int = 0
    star: bool = False  # table: "*" stands for every key not named

    @property
    def must(self) -> str:
        return {
            "count": "an integer >= 0, or null for unlimited", "size": "an integer >= 1",
            "int": f"an integer >= {self.low}", "seconds": "a number of seconds >= 0",
            "unit": "\"bytes\" or \"chars\"", "period": "\"day\" or \"month\"", "flag": "true or false",
            "table": f"an object of integers >= {self.low}",
        }[self.kind]


def _lim(default: Any, kind: Kind, what: str, low: int = 0, star: bool = False) -> Any:
    spec = Spec(kind, what, low, star)
    if isinstance(default, dict):
        return field(default_factory=lambda: dict(default), metadata={"spec": spec})
    return field(default=default, metadata={"spec": spec})


@dataclass(frozen=True)
class Limits:
    """Every counted limit, quota, rate and body cap, enforced by the core. None means unlimited.

    Order of enforcement for a membership change (documented in docs/compat/*):
    batch size, then the tag, then each subject, then per-subject caps, then per-app caps.
    """

    tags_per_app: int | None = _lim(None, "count", "tags an app holds (reserved tags do not count)")
    tags_per_subject: int | None = _lim(None, "count", "tags one subject carries")
    tag_name_max: int = _lim(64, "size", "length of a tag or group name, in `tag_name_unit`")
    tag_name_unit: Literal["bytes", "chars"] = _lim("chars", "unit", "how a name's length is measured")
    page_size: int = _lim(10_000, "size", "items one page of a listing holds")
    tag_delete_max_members: int | None = _lim(None, "count", "members a tag may have and still be deleted")
    batch: Mapping[str, int] = _lim({}, "table", "items one request may name, by batch kind", low=1)
    daily_quotas: Mapping[str, int] = _lim(
        {}, "table", "calls per calendar day, by API (\"*\": the others; 0: unlimited)", star=True)
    rate_limits: Mapping[str, int] = _lim(
        {}, "table", "calls per second, by API (\"*\": the others; 0: unlimited)", star=True)
    token_refresh_per_day: int | None = _lim(None, "count", "forced token refreshes per app in 24 hours")
    token_refresh_gap: float = _lim(0.0, "seconds", "time between two forced token refreshes")
    remark_max: int | None = _lim(None, "count", "characters of a subject's remark")
    max_accounts: int | None = _lim(None, "count", "accounts (imported subjects) an app holds")
    account_id_max_bytes: int | None = _lim(None, "count", "bytes of an account's id")
    profile_max_bytes: int | None = _lim(None, "count", "bytes of one profile field of an account")
    reimport_cooldown: float = _lim(0.0, "seconds", "time before a deleted account may be imported again")
    attr_slots: int = _lim(10, "int", "attribute slots an app may name")
    attr_max_bytes: int = _lim(50, "size", "bytes of an attribute's name or value")
    push_enabled: bool = _lim(True, "flag", "whether the app may push at all")
    push_per_day: int | None = _lim(None, "count", "push tasks per calendar day")
    push_min_interval: float = _lim(0.0, "seconds", "time between two push tasks")
    push_body_max: int | None = _lim(None, "count", "bytes of a push request's body")
    # messages sent to an audience (core/sends.py): how many sends a period allows, the calendar
    # period (UTC+8), the fewest ids a listed send takes (its most: batch["send"]) and the longest
    # caller de-duplication key, in UTF-8 bytes
    sends_per_period: int | None = _lim(None, "count", "sends to an audience a period allows")
    send_period: Literal["day", "month"] = _lim("day", "period", "the calendar period sends are counted in")
    send_list_min: int = _lim(1, "size", "fewest ids a listed send takes")
    send_key_max: int = _lim(64, "size", "bytes of a send's de-duplication key")

    def batch_max(self, kind: str) -> int | None:
        return self.batch.get(kind)

    def per_api(self, table: Mapping[str, int], api: str) -> int | None:
        """An API's entry of a star table (`daily_quotas`, `rate_limits`): None or 0 = unlimited."""
        return table.get(api, table.get("*")) or None

    def measure(self, name: str) -> int:
        return len(name.encode("utf-8")) if self.tag_name_unit == "bytes" else len(name)

    def with_overrides(self, overrides: Any, *, strict: bool = True) -> Limits:
        """These limits with `overrides` applied. Strict (a request, a seed): Invalid naming the
        first unknown key or bad value. Not strict (a stored row an older version let in): such
        a key is skipped with a warning, so the app keeps working."""
        checked = check_limits(overrides) if strict else _tolerated(overrides)
        return replace(self, **{k: _merged(k, getattr(self, k), v) for k, v in checked.items()})

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for key in TABLES:
            d[key] = dict(getattr(self, key))
        return d


SPECS: dict[str, Spec] = {f.name: f.metadata["spec"] for f in fields(Limits)}
TABLES = tuple(k for k, s in SPECS.items() if s.kind == "table")

NATIVE_BATCH_MAX = 10_000
# the native preset (no vendor face): no cap on tags per app or per subject, names up to 128
# characters, pages and membership batches up to 10,000
NATIVE = Limits(tag_name_max=128, page_size=10_000, batch={"memberships": NATIVE_BATCH_MAX})


def limit_keys() -> list[str]:
    return sorted(SPECS)


def check_limits(overrides: Any) -> dict[str, Any]:
    """`overrides` (a `limits:` object from a request, a seed or a snapshot) checked: known keys,
    typed and in range; Invalid("limits", ...) naming the key otherwise."""
    if overrides is None:
        return {}
    if not isinstance(overrides, Mapping):
        raise Invalid("limits", "type", None, "limits must be an object")
    for key in overrides:
        if key not in SPECS:
            raise Invalid("limits", "unknown_key", _shown(key),
                          f"unknown limit {_shown(key)!r}: valid keys are {', '.join(limit_keys())}")
    return {k: check_limit(k, v) for k, v in overrides.items()}


def _tolerated(overrides: Any) -> dict[str, Any]:
    if not overrides:
        return {}
    if not isinstance(overrides, Mapping):
        log.warning("ignoring stored limits that are not an object: %r", overrides)
        return {}
    out = {}
    for key, value in overrides.items():
        try:
            out[key] = check_limit(key, value)
        except Invalid as exc:
            log.warning("ignoring stored limit %s: %s", _shown(key), exc.detail)
    return out


def _merged(key: str, old: Any, new: Any) -> Any:
    spec = SPECS[key]
    if spec.kind != "table" or (spec.star and "*" in new):
        return new
    return {**old, **new}


def check_limit(key: str, value: Any) -> Any:
    """One limit's value, or Invalid naming the key and what it must be."""
    spec = SPECS.get(key) if isinstance(key, str) else None
    if spec is None:
        raise Invalid("limits", "unknown_key", _shown(key), f"unknown limit {_shown(key)!r}")
    top = BOUNDS.count_max
    if spec.kind == "count":
        return None if value is None else _int(key, value, 0, top, spec.must)
    if spec.kind in ("size", "int"):
        return _int(key, value, 1 if spec.kind == "size" else spec.low, top, spec.must)
    if spec.kind == "seconds":
        return _seconds(key, value, top, spec.must)
    if spec.kind in ("unit", "period", "flag"):
        choices = {"unit": ("bytes", "chars"), "period": ("day", "month")}.get(spec.kind)
        ok = value in choices if choices else isinstance(value, bool)
        if not ok or not isinstance(value, str | bool):
            raise Invalid("limits", "type", None, f"limit {key!r} must be {spec.must}")
        return value
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise Invalid("limits", "type", None, f"limit {key!r} must be an object of integers")
    return {k: _int(f"{key}.{_shown(k)}", v, spec.low, top, f"an integer >= {spec.low}") for k, v in value.items()}


def _int(key: str, value: Any, low: int, high: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Invalid("limits", "range" if isinstance(value, int) and not isinstance(value, bool) else "type",
                      None, f"limit {key!r} must be {what} (at most {high})")
    return value


def _seconds(key: str, value: Any, high: int, what: str) -> float:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if not number or not math.isfinite(value) or not 0 <= value <= high:
        raise Invalid("limits", "range" if number else "type", None, f"limit {key!r} must be {what} (at most {high})")
    return float(value)


def _shown(key: Any) -> str:
    text = str(key)
    return text if len(text) <= 64 else text[:61] + "..."
