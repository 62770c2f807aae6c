"""Tenants: creating and updating apps (idempotent), and finding them by name or id."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import Any

from polytag.core.fresh import Fresh
from polytag.core.limits import NATIVE, SPECS, Limits
from polytag.core.models import App
from polytag.errors import Conflict, NotFound
from polytag.store import Store, Tx
from polytag.store.rows import Rows


def stored_limits(cfg: Mapping[str, Any]) -> Any:
    """The limit overrides a stored config holds: its `limits:`, and any limit an older version
    kept at the config's top level (`rate_limits`, `max_accounts`, ...), `limits:` winning."""
    inner = cfg.get("limits")
    older = {k: cfg[k] for k in SPECS if k in cfg}
    if not older or (inner is not None and not isinstance(inner, Mapping)):
        return inner
    return {**older, **(inner or {})}


class Apps:
    def __init__(self, store: Store, presets: Mapping[str, Limits]) -> None:
        self.store = store
        self.presets = {"native": NATIVE, **presets}  # a stored limit that is not valid falls back here
        self._by_id: dict[int, tuple[tuple[Any, ...], App]] = {}
        self._fresh: Fresh[int, App] = Fresh(store.generation)
        self._lock = threading.Lock()

    def _app(self, row: tuple[Any, ...]) -> App:
        app_id, dialect, name, _hash, _secret, config, created = row
        cfg = json.loads(config or "{}")
        limits = self.presets.get(dialect, Limits()).with_overrides(stored_limits(cfg), strict=False)
        return App(id=app_id, dialect=dialect, name=name, limits=limits, config=cfg, created_at=created)

    def of_row(self, row: tuple[Any, ...]) -> App:
        """The App of a row just read (as `app_by_id` gives it); reused while the row is unchanged."""
        app_id = int(row[0])
        hit = self._by_id.get(app_id)
        if hit is not None and hit[0] == row:
            return hit[1]
        app = self._app(row)
        with self._lock:
            self._by_id[app_id] = (row, app)
        return app

    def get(self, name: str, rows: Rows | None = None) -> App:
        row = (rows or self.store.read()).app_by_name(str(name))
        if row is None:
            raise NotFound("app", name)
        return self._app(row)

    def by_id(self, app_id: int, rows: Rows | None = None) -> App:
        """The app as its row says now. Given `rows` (a write group's, say), the row is read
        from them; otherwise a `Fresh` copy serves, which any process's write to an app or a
        token makes stale at once. The parsed App is reused while the row is unchanged."""
        if rows is None:
            fresh = self._fresh.get(app_id)
            if fresh is not None:
                return fresh
        mark = self._fresh.mark()
        row = (rows or self.store.read()).app_by_id(app_id)
        if row is None:
            raise NotFound("app", app_id)
        app = self.of_row(row)
        if rows is None:
            self._fresh.put(app_id, app, mark)
        return app

    def list(self, dialect: str | None = None) -> list[App]:
        return [self._app(r) for r in self.store.read().apps(dialect)]

    def secret_of(self, app: App, rows: Rows | None = None) -> tuple[str, str]:
        """(secret_hash, secret) of the app."""
        row = (rows or self.store.read()).app_by_id(app.id)
        if row is None:
            raise NotFound("app", app.id)
        return row[3], row[4]

    def upsert(
        self, tx: Tx, dialect: str, name: str, *, secret_hash: str = "", secret: str = "",
        config: Mapping[str, Any] | None = None, now: float = 0.0,
    ) -> tuple[App, bool]:
        """Create the app or update its credentials and config; returns (app, created)."""
        cfg = json.dumps(dict(config or {}), ensure_ascii=False, sort_keys=True)
        row = tx.app_by_name(name)
        if row is None:
            app_id = tx.insert_app(dialect, name, secret_hash, secret, cfg, now)
            created = True
        else:
            if row[1] != dialect:
                raise Conflict("app", name, detail=f"app {name!r} exists with dialect {row[1]!r}: "
                               f"an app name is unique across dialects")
            app_id = row[0]
            tx.update_app(app_id, secret_hash, secret, cfg)
            created = False
        self.invalidate(app_id)
        app_row = tx.app_by_id(app_id)
        assert app_row is not None
        return self._app(app_row), created

    def invalidate(self, app_id: int) -> None:
        with self._lock:
            self._by_id.pop(app_id, None)
        self._fresh.drop(app_id)
