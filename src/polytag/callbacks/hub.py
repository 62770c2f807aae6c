"""One server's callbacks: each app's configuration, URL checks, simulated vendor events, and
their delivery and journal. The control plane's routes (polytag.callbacks.views) call this."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from polytag.callbacks import config as cfgs
from polytag.callbacks.config import CallbackConfig, ConfigError
from polytag.callbacks.delivery import Deliverer, client, send
from polytag.callbacks.face import CallbackFace, Event, Stamp
from polytag.callbacks.faults import DeliveryFaults
from polytag.callbacks.hosts import HostPolicy
from polytag.callbacks.journal import BODY_KEPT, Attempt, Delivery, DeliveryJournal
from polytag.control.http import BadRequest, named_app
from polytag.core.models import App
from polytag.core.service import Service


class Callbacks:
    def __init__(self, service: Service, faces: Mapping[str, CallbackFace], allowed_hosts: Sequence[str] = ()) -> None:
        self.service, self.faces = service, faces  # dialect name -> its face
        self.policy = HostPolicy(allowed_hosts)
        self.journal = DeliveryJournal()
        self.faults = DeliveryFaults()
        self.deliverer = Deliverer(self.journal, self.faults, self.policy)

    # apps and configuration ------------------------------------------------------------------
    def emitted(self, app: App, event: Event) -> None:
        """An event a dialect raised while answering a call (`Service.emit`): pushed like a
        simulated one, to the app's callback URL if it has one."""
        face = self.faces.get(app.dialect)
        if face is not None:
            self.push(app, face, cfgs.of_app(self.service.apps.get(app.name)), event)

    def app(self, name: Any) -> tuple[App, CallbackFace]:
        if not isinstance(name, str) or not name:
            raise BadRequest("`app` is required (an app name)")
        app = named_app(self.service.apps, name)
        face = self.faces.get(app.dialect)
        if face is None:
            raise BadRequest(f"the {app.dialect} dialect sends no callbacks (see docs/compat/{app.dialect}.md)")
        return app, face

    def check(self, app: App, face: CallbackFace, doc: Any) -> CallbackConfig:
        """The configuration `doc` gives `app`; 400 naming the field when it cannot be used."""
        try:
            cfg = cfgs.parse(doc, face.modes)
        except ConfigError as exc:
            raise BadRequest(str(exc)) from None
        if not self.policy.allows(cfg.url):
            raise BadRequest(f"`url`: {self.policy.refusal(cfg.url)}")
        owner = self.owner_of(cfg.url, app)
        if owner is not None:
            raise BadRequest(f"`url` is the callback URL of another app ({owner}): one app per URL")
        return cfg

    def owner_of(self, url: str, app: App) -> str | None:
        """Another app that configured `url`, if any (callbacks never cross apps)."""
        for other in self.service.apps.list():
            cfg = cfgs.of_app(other)
            if other.id != app.id and cfg is not None and cfg.url == url:
                return other.name
        return None

    async def configure(self, app: App, cfg: CallbackConfig | None) -> None:
        await cfgs.store(self.service, app, cfg)

    # the URL check ---------------------------------------------------------------------------
    async def verify(self, app: App, face: CallbackFace) -> dict[str, Any]:
        cfg = cfgs.of_app(app)
        if cfg is None:
            raise BadRequest(f"app {app.name} has no callback configured (PUT /_polytag/callbacks/config)")
        shake = face.handshake(app, cfg, Stamp.fresh(self.service.clock.now()))
        d = self.journal.record(app.name, Event("url_check", {"expected": shake.expected.decode()}), shake.request)
        out: dict[str, Any] = {"app": app.name, "url": cfg.url, "request": shake.request.to_json(),
                               "expected": shake.expected.decode(), "delivery": d.id}
        if not self.policy.allows(cfg.url):
            d.settle("refused", self.policy.refusal(cfg.url))
            return {**out, "ok": False, "answer": None, "error": d.note}
        async with client() as http:
            got = await send(http, shake.request, self.deliverer.timeout_s or face.timeout_s)
        d.attempts.append(Attempt(1, got.status, got.body[:BODY_KEPT].decode("utf-8", "replace"), got.error, got.ms))
        passed = got.status == 200 and got.body.strip() == shake.expected
        d.settle("delivered" if passed else "failed", "" if passed else "the server did not echo echostr")
        return {**out, "ok": passed, "answer": {"status": got.status, "body": d.attempts[0].body,
                                                "error": got.error, "ms": round(got.ms, 3)}}

    # events ----------------------------------------------------------------------------------
    async def simulate(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        app, face = self.app(doc.get("app"))
        action = doc.get("action")
        run = face.actions.get(action) if isinstance(action, str) else None
        if run is None:
            raise BadRequest(f"`action` must be one of {', '.join(face.actions)} for the {app.dialect} dialect")
        try:
            events = await run(self.service, app, doc)
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        cfg = cfgs.of_app(self.service.apps.get(app.name))
        out = [{"event": e.kind, "fields": dict(e.fields), "deliveries": [d.id for d in self.push(app, face, cfg, e)]}
               for e in events]
        return {"app": app.name, "action": action, "events": out,
                "note": "" if cfg else "no callback configured: state changed, nothing sent"}

    def push(self, app: App, face: CallbackFace, cfg: CallbackConfig | None, event: Event) -> list[Delivery]:
        """Queue `event` for the app's callback URL (nothing when it has none)."""
        if cfg is None:
            return []
        request = face.render(app, cfg, event, Stamp.fresh(self.service.clock.now()))
        owner = self.owner_of(cfg.url, app)
        if owner is not None:  # two apps seeded with one URL: neither gets the other's events
            d = self.journal.record(app.name, event, request)
            d.settle("refused", f"the URL is also the callback URL of app {owner}")
            return [d]
        return self.deliverer.submit(app.name, face, event, request)

    def forget(self, app: str | None) -> None:
        self.deliverer.forget(app)
        self.journal.clear(app)
        self.faults.clear(app)
