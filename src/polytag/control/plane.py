"""The control plane's state for one server: journal, faults, quotas, startup seeds, and the hooks
it registers on the Service."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Mapping
from typing import Any

from polytag import seed
from polytag.config import Settings
from polytag.control import snapshot
from polytag.control.calls import AppHints
from polytag.control.faults import Faults
from polytag.control.journal import Journal
from polytag.control.quotas import DailyQuotas
from polytag.control.reset import Resetter
from polytag.core import ids
from polytag.core.models import App
from polytag.core.service import Service, default_ids
from polytag.core.subjects import drop_group_view
from polytag.dialects import Dialect
from polytag.store import Tx

_planes: weakref.WeakKeyDictionary[Service, ControlPlane] = weakref.WeakKeyDictionary()


class ControlPlane:
    def __init__(self, service: Service, settings: Settings, dialects: Mapping[str, Dialect]) -> None:
        self.service, self.settings, self.dialects = service, settings, dialects
        self.hints = AppHints()
        self.journal = Journal(self.hints)
        self.faults = Faults(self.hints)
        self.quotas = DailyQuotas()
        startup = [seed.load(p) for p in settings.seeds]
        self.id_seed = settings.id_seed or next((str(d["id_seed"]) for d in startup if "id_seed" in d), "")
        self.resetter = Resetter(service, dialects, startup, self._forget)
        from polytag.callbacks.hub import Callbacks  # it uses polytag.control.http: imported late

        faces = {name: d.callbacks for name, d in dialects.items() if d.callbacks is not None}
        self.callbacks = Callbacks(service, faces, settings.callback_hosts)

    @classmethod
    def attach(cls, service: Service, settings: Settings, dialects: Mapping[str, Dialect]) -> ControlPlane:
        """The plane for this service, replacing the hooks of any earlier one (one app build each)."""
        old = _planes.get(service)
        if old is not None:
            old.detach()
        plane = cls(service, settings, dialects)
        if plane.id_seed and plane.id_seed != settings.id_seed:  # given by a seed file
            service.tags.make_id = default_ids(plane.id_seed)
        ids.use_seed(plane.id_seed)
        service.call_interceptors.append(plane.faults.intercept)  # the developer's own: any call
        service.auth_interceptors.append(plane.quotas.intercept)  # callers who proved their app
        service.call_observers.append(plane.journal.observe)
        service.event_sinks.append(plane.callbacks.emitted)  # events raised by vendor calls
        _planes[service] = plane
        return plane

    def detach(self) -> None:
        svc = self.service
        for hooks, hook in ((svc.call_interceptors, self.faults.intercept),
                            (svc.auth_interceptors, self.quotas.intercept)):
            if hook in hooks:
                hooks.remove(hook)
        if self.journal.observe in svc.call_observers:
            svc.call_observers.remove(self.journal.observe)
        if self.callbacks.emitted in svc.event_sinks:
            svc.event_sinks.remove(self.callbacks.emitted)

    def _forget(self, app: App | None) -> None:
        """The plane's own state about an app (all apps: None) when it is reset."""
        self.quotas.reset(app)
        self.faults.clear(app.name if app else None)
        self.journal.clear(app.name if app else None)
        self.callbacks.forget(app.name if app else None)
        if app is None:
            self.service.clock.real()
            ids.use_seed(self.id_seed)

    # snapshots ---------------------------------------------------------------
    async def take_snapshot(self, app_name: str | None, secrets: bool = False) -> dict[str, Any]:
        """The state of one app (or all) as a snapshot document; plain-text secrets only when
        `secrets` (see snapshot.SECRET_COLUMNS)."""
        svc = self.service
        apps = svc.apps.list()
        if app_name is not None:
            apps = [a for a in apps if a.name == app_name]
            if not apps:
                raise LookupError(app_name)

        def read() -> dict[str, Any]:
            return snapshot.dump(svc.store.read(), apps, "app" if app_name else "all", svc.clock.now(),
                                 secrets=secrets)

        return await asyncio.to_thread(read)

    async def load_snapshot(self, doc: Any) -> list[str]:
        """Replace the apps the snapshot holds (a whole-state snapshot: every app) by its rows.

        An app whose plain-text secret the snapshot left out keeps the one it has here, or
        else gets the one its startup seed entry gives (`key:`), or else none."""
        doc = snapshot.upgrade(doc)
        names = snapshot.names(doc)
        snapshot.check(doc, {*self.dialects, *seed.extra_kinds()})  # all of it, before the write
        everything = doc.get("scope") == "all"
        gone = [a for a in self.service.apps.list() if everything or a.name in names]
        kept = {a.name: self.service.apps.secret_of(a)[1] for a in gone}
        entries = [snapshot.with_secret(e, kept.get(n) or self.resetter.seeded_secret(n))
                   if snapshot.without_secret(e) else e for e, n in zip(doc["apps"], names, strict=True)]

        def op(tx: Tx) -> None:
            for app in gone:
                tx.delete_app_rows(app.id)
                drop_group_view(tx, app.id)
            for entry in entries:
                snapshot.load_app(tx, entry)

        await self.service.write(op)
        for app in gone:
            self.resetter.forget(app)
            self._forget(app)
        return names
