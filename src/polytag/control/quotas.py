"""Daily call quotas per app and API, counted on the emulator's clock.

A vendor that counts calls per account per API per calendar day (Beijing time) declares the
quotas in its limits preset (`daily_quotas: {api: n, "*": n}`) and renders the refusal
(`LimitExceeded("quota")`) in its own envelope. Only calls whose caller proved the app are
counted: a valid access token, or the right secret at a token endpoint (the intercept runs as a
Service auth interceptor, see `Call.admit`); a stranger without them spends nothing. Only the
dialect's own endpoints are counted, so the table holds at most apps x endpoints entries
whatever paths clients send. Quotas come from, first to last: the control plane
(`POST /_polytag/quotas`), the app's own limits (its preset, overridden by its seed's
`limits: {daily_quotas: {api: n}}`).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from polytag.core.models import App
from polytag.core.quotas import day_start
from polytag.dialects import Call
from polytag.errors import LimitExceeded


class DailyQuotas:
    """Counters per (app, API, day); `intercept` is a Service auth interceptor."""

    def __init__(self) -> None:
        self._apis: dict[str, frozenset[str]] = {}  # dialect -> its endpoint paths, once seen
        self._used: dict[tuple[int, str], tuple[float, int]] = {}  # -> (day start, calls)
        self._overrides: dict[str, dict[str, int]] = {}  # app name -> {api: quota}
        self._quotas: dict[tuple[int, str], tuple[App, int | None]] = {}  # see `quota`
        self._lock = threading.Lock()

    def quota(self, app: App, api: str) -> int | None:
        """The day's quota of `api` for `app` (None: unlimited); remembered per App object,
        which is replaced whenever the app's row changes, until the overrides change."""
        key = (app.id, api)
        memo = self._quotas.get(key)
        if memo is not None and memo[0] is app:
            return memo[1]
        cap = self._quota(app, api)
        self._quotas[key] = (app, cap)
        return cap

    def _quota(self, app: App, api: str) -> int | None:
        table, over = app.limits.daily_quotas, self._overrides.get(app.name)
        if over:  # as a `limits:` override merges: one holding "*" decides every API
            table = over if "*" in over else {**table, **over}
        return app.limits.per_api(table, api)

    def set(self, app: str, quotas: Mapping[str, int]) -> None:
        with self._lock:
            self._overrides.setdefault(app, {}).update(quotas)
            self._quotas.clear()

    async def intercept(self, call: Call) -> BaseException | None:
        """Count the call against its (authenticated) app: LimitExceeded("quota") once the day's
        quota is used."""
        app, api = call.app, call.endpoint.path
        if app is None or (not app.limits.daily_quotas and app.name not in self._overrides):
            return None
        apis = self._apis.get(call.dialect.name)
        if apis is None:
            apis = self._apis[call.dialect.name] = frozenset(ep.path for ep in call.dialect.endpoints)
        if api not in apis:  # never a key made of a client's path
            return None
        cap = self.quota(app, api)
        if cap is None:
            return None
        return self._count(app, api, cap, day_start(call.service.clock.now()))

    def _count(self, app: App, api: str, cap: int, today: float) -> BaseException | None:
        with self._lock:
            day, used = self._used.get((app.id, api), (today, 0))
            if day != today:  # a new day (or the clock moved back): the count starts again
                used = 0
            if used >= cap:
                return LimitExceeded("quota", used + 1, cap)
            self._used[(app.id, api)] = (today, used + 1)
        return None

    def usage(self, app: App, now: float) -> dict[str, dict[str, Any]]:
        today = day_start(now)
        with self._lock:
            return {api: {"used": used if day == today else 0, "quota": self.quota(app, api)}
                    for (app_id, api), (day, used) in self._used.items() if app_id == app.id}

    def reset(self, app: App | None = None, keep_overrides: bool = False) -> None:
        with self._lock:
            for key in [k for k in self._used if app is None or k[0] == app.id]:
                del self._used[key]
            if not keep_overrides:
                self._quotas.clear()
                if app is None:
                    self._overrides.clear()
                else:
                    self._overrides.pop(app.name, None)
