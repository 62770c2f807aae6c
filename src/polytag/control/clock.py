"""Moving the emulator's clock: forward by seconds, to an instant, or back to real time."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from polytag.control.http import BadRequest
from polytag.core.clock import Clock


def state(clock: Clock) -> dict[str, Any]:
    now = clock.now()
    return {"now": now, "iso": datetime.fromtimestamp(now, UTC).isoformat(), "offset_s": clock.offset,
            "real": clock.offset == 0}


def parse_instant(value: Any) -> float:
    """An ISO 8601 time (no zone = UTC) or epoch seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    if not isinstance(value, str):
        raise BadRequest("`set` must be an ISO 8601 time or epoch seconds")
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"`set`: not an ISO 8601 time: {value!r}") from None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def move(clock: Clock, doc: Mapping[str, Any]) -> dict[str, Any]:
    """Apply exactly one of `advance_s`, `set`, `real: true`; answer the clock's new state."""
    given = [k for k in ("advance_s", "set", "real") if k in doc]
    if len(given) != 1:
        raise BadRequest("give exactly one of `advance_s`, `set`, `real`")
    if "advance_s" in doc:
        step = doc["advance_s"]
        if isinstance(step, bool) or not isinstance(step, int | float) or not math.isfinite(step):
            raise BadRequest("`advance_s` must be a number of seconds")
        clock.advance(float(step))
    elif "set" in doc:
        clock.set(parse_instant(doc["set"]))
    elif doc["real"] is True:
        clock.real()
    else:
        raise BadRequest("`real` must be true")
    return state(clock)
