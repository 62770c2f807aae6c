"""Call-frequency limits per app and per API on the service clock, and calendar-day windows.

Frequency counters are per process (a sliding one-second window); daily caps are counted
from durable rows by their owners, using `day_start` for the window.
"""

from __future__ import annotations

import threading
from collections import deque

from polytag.core.clock import Clock
from polytag.core.models import App
from polytag.errors import LimitExceeded


def day_start(now: float, utc_offset_hours: float = 8.0) -> float:
    """Start of the calendar day containing `now` in the given zone (vendors in China: UTC+8)."""
    shift = utc_offset_hours * 3600
    return (now + shift) // 86400 * 86400 - shift


def per_second_limit(app: App, api: str) -> int | None:
    """The app's limit for `api`: its `rate_limits` {api: n} or {"*": n}; 0 or absent = off."""
    return app.limits.per_api(app.limits.rate_limits, api)


class Quotas:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._calls: dict[tuple[int, str], deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, app: App, api: str) -> None:
        """Count one call of `api`; LimitExceeded("rate") if the last second already had the limit."""
        limit = per_second_limit(app, api)
        if limit is None:
            return
        now = self.clock.now()
        with self._lock:
            q = self._calls.setdefault((app.id, api), deque())
            if q and q[-1] > now:  # the clock was moved back: calls "in the future" are forgotten
                q.clear()
            while q and q[0] <= now - 1.0:
                q.popleft()
            if len(q) >= limit:
                raise LimitExceeded("rate", len(q) + 1, limit)
            q.append(now)

    def reset(self, app_id: int | None = None) -> None:
        with self._lock:
            for key in [k for k in self._calls if app_id is None or k[0] == app_id]:
                del self._calls[key]
