"""The JuziBot (WeCom) dialect: `/api/v1/` tag groups, tags, and marking customers per member."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from polytag.core.contacts import Contacts
from polytag.core.groups import Groups
from polytag.core.limits import Limits
from polytag.core.models import App
from polytag.core.service import Service
from polytag.dialects import Dialect, Endpoint
from polytag.dialects.juzibot import auth, errors, routes
from polytag.store import Tx

LIMITS = Limits(
    tags_per_app=3000,       # WeCom corp tags per enterprise (older doc; newer counts 10,000 with rule tags)
    tags_per_subject=3000,   # WeCom mark_tag: tags one member may put on one customer (a subject is a pair)
    tag_name_max=30,         # seed: group and tag names, max length 30 (WeCom: characters)
    tag_name_unit="chars",
    page_size=10_000,
)

APP_CONFIG = {"id_scheme": "et"}


def _tags(group: Mapping[str, Any]) -> list[tuple[str, int]]:
    return [(str(t["name"]), int(t.get("order", 0))) for t in group.get("tags") or []]


def seed_app(service: Service, entry: Mapping[str, Any]) -> App:
    """`{dialect: juzibot, name, token, members: [..], customers: [{unionId, friends: [..]}],
    groups: [{name, order, tags: [{name, order}]}], limits: {..}}`; groups are optional."""
    name, token = str(entry["name"]), str(entry["token"])
    config = {**APP_CONFIG, **({"limits": entry["limits"]} if "limits" in entry else {})}
    members = [str(m) for m in entry.get("members") or []]
    customers = [(str(c["unionId"]), [str(f) for f in c.get("friends") or []])
                 for c in entry.get("customers") or []]
    groups = [(str(g["name"]), int(g.get("order", 0)), _tags(g)) for g in entry.get("groups") or []]

    def op(tx: Tx) -> App:
        now = service.clock.now()
        app, _ = service.apps.upsert(tx, "juzibot", name, secret_hash=auth.secret_hash(token),
                                     config=config, now=now)
        contacts = Contacts.of(service)
        contacts.add_members(tx, app, members, int(now))
        for union_id, friends in customers:
            contacts.add_customer(tx, app, union_id, friends, int(now))
        for group_name, order, tags in groups:
            Groups.of(service).add_tags(tx, app, tags, group_name=group_name, group_order=order,
                                        now_ms=service.now_ms())
        return app

    return service.write_sync(op)


DIALECT = Dialect(
    name="juzibot",
    prefix="/api/v1",
    endpoints=routes.ENDPOINTS,
    limits=LIMITS,
    authenticate=auth.authenticate,
    render_error=errors.render,
    wrong_method=errors.wrong_method,
    unknown_path=errors.unknown_path,
    seed_app=seed_app,
    new_rid=errors.new_rid,
)

__all__ = ["DIALECT", "LIMITS", "Endpoint"]
