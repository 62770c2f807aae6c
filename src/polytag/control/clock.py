"""Moving the emulator's clock: forward by seconds, to an instant, or back to real time."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from polytag.control.http import BadRequest
from polytag.core.clock import Clock


def state(clock: Clock) -> dict[str, Any]:
    now = clock.now()
    return {"now": now, "iso": datetime.fromtimestamp(now, UTC).isoformat(), "offset_s": clock.offset,
            "real": clock.offset == 0}


# The instants the clock may be moved to: 1970-01-01 to 9999-01-01 UTC. A datetime ends with
# 9999 (past it the clock could not say what time it is); the last year is margin for real time
# to run on after a move.
EARLIEST = 0.0
LATEST = datetime(9999, 1, 1, tzinfo=UTC).timestamp()
SPAN = f"between {EARLIEST:.0f} (1970-01-01) and {LATEST:.0f} (9999-01-01) epoch seconds"


def parse_instant(value: Any, name: str = "set") -> float:
    """An ISO 8601 time (no zone = UTC) or epoch seconds, within [EARLIEST, LATEST]."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not EARLIEST <= value <= LATEST:  # compared before float(): 10**400 has no float
            raise BadRequest(f"`{name}` must be {SPAN}")
        return float(value)
    if not isinstance(value, str):
        raise BadRequest(f"`{name}` must be an ISO 8601 time or epoch seconds")
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        epoch = (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
    except (ValueError, OverflowError):
        raise BadRequest(f"`{name}`: not an ISO 8601 time: {value[:100]!r}") from None
    if not EARLIEST <= epoch <= LATEST:
        raise BadRequest(f"`{name}` must be {SPAN}")
    return epoch


def move(clock: Clock, doc: Mapping[str, Any]) -> dict[str, Any]:
    """Apply exactly one of `advance_s`, `set`, `real: true`; answer the clock's new state."""
    given = [k for k in ("advance_s", "set", "real") if k in doc]
    if len(given) != 1:
        raise BadRequest("give exactly one of `advance_s`, `set`, `real`")
    if "advance_s" in doc:
        step = doc["advance_s"]
        if isinstance(step, bool) or not isinstance(step, int | float) or step != step:  # NaN
            raise BadRequest("`advance_s` must be a number of seconds")
        now = clock.now()
        if not EARLIEST - now <= step <= LATEST - now:  # the clock must still show a time after
            raise BadRequest(f"`advance_s` must keep the clock {SPAN}")
        clock.advance(float(step))
    elif "set" in doc:
        clock.set(parse_instant(doc["set"]))
    elif doc["real"] is True:
        clock.real()
    else:
        raise BadRequest("`real` must be true")
    return state(clock)
