"""The JuziBot (WeCom) dialect: `/api/v1/` tag groups, tags, and marking customers per member."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from polytag.core.customers import CONFIG_KEY, PROFILE_KEYS
from polytag.core.limits import Limits
from polytag.core.models import App
from polytag.core.service import Service
from polytag.dialects import Console, Dialect, Endpoint, from_errors
from polytag.dialects.juzibot import auth, commands, errors, parts, routes
from polytag.dialects.juzibot import customers as customer_routes
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


FACE_EXPIRES = 2**62  # a face's token never expires (seconds; fits every backend's column)


def seed_face(service: Service, entry: Mapping[str, Any]) -> App:
    """`{dialect: juzibot, name, token, corpid}`: the corp `corpid` (a WeCom corp seeded before on
    this server) seen through JuziBot: the same groups, tags and marks, its own contacts."""
    corpid, token = str(entry["corpid"]), str(entry["token"])
    extra = sorted(set(entry) & {"members", "customers", "groups", "limits"})
    if extra:
        raise ValueError(f"a JuziBot face of corp {corpid} takes no {', '.join(extra)} (the corp's entry has them)")
    app = service.apps.get(corpid)
    if "customer_by_unionid" not in app.config:
        raise ValueError(f"corpid {corpid} is not a corp a JuziBot face can see (seed it first)")
    wanted = auth.secret_hash(token)

    def op(tx: Tx) -> App:
        if tx.token(wanted) is None:
            tx.insert_token(wanted, app.id, "juzibot", service.clock.now(), FACE_EXPIRES)
        return app

    return service.write_sync(op)


def _profile(customer: Mapping[str, Any]) -> dict[str, Any]:
    """What the seed says of a customer besides its friends: texts and small integers."""
    out: dict[str, Any] = {k: str(customer[k]) for k in PROFILE_KEYS[:2] if customer.get(k) is not None}
    for k in PROFILE_KEYS[2:]:
        if customer.get(k) is not None:
            out[k] = int(customer[k])
            if out[k] not in (0, 1, 2):
                raise ValueError(f"customer {k} must be 0, 1 or 2, not {out[k]}")
    return out


def seed_app(service: Service, entry: Mapping[str, Any]) -> App:
    """`{dialect: juzibot, name, token, members: [..], customers: [{unionId, friends: [..],
    externalUserId?, name?, gender?, type?}], groups: [{name, order, tags: [{name, order}]}],
    limits: {..}}`; groups are optional. With `corpid:` the entry is a face of that corp (`seed_face`)."""
    if "corpid" in entry:
        return seed_face(service, entry)
    name, token = str(entry["name"]), str(entry["token"])
    config = {**APP_CONFIG, **({"limits": entry["limits"]} if "limits" in entry else {})}
    profiles = {str(c["unionId"]): _profile(c) for c in entry.get("customers") or []}
    if any(profiles.values()):  # customer/list and customer/detail show them
        config[CONFIG_KEY] = {u: p for u, p in profiles.items() if p}
    members = [str(m) for m in entry.get("members") or []]
    customers = [(str(c["unionId"]), [str(f) for f in c.get("friends") or []])
                 for c in entry.get("customers") or []]
    groups = [(str(g["name"]), int(g.get("order", 0)), _tags(g)) for g in entry.get("groups") or []]

    def op(tx: Tx) -> App:
        now = service.clock.now()
        app, _ = service.apps.upsert(tx, "juzibot", name, secret_hash=auth.secret_hash(token),
                                     config=config, now=now)
        contacts = parts.contacts(service)
        contacts.add_members(tx, app, members, int(now))
        for union_id, friends in customers:
            contacts.add_customer(tx, app, union_id, friends, int(now))
        for group_name, order, tags in groups:
            service.groups.add_tags(tx, app, tags, group_name=group_name, group_order=order,
                                        now_ms=service.now_ms())
        return app

    return service.write_sync(op)


def fixture_entry(tag: str) -> dict[str, Any]:
    return {"name": f"bot-{tag}", "token": secrets.token_hex(16)}


DIALECT = Dialect(
    name="juzibot",
    prefix="/api/v1",
    endpoints=[*routes.ENDPOINTS, *customer_routes.ENDPOINTS],
    limits=LIMITS,
    authenticate=auth.authenticate,
    seed_app=seed_app,
    **from_errors(errors),
    parts=parts.build,
    app_hint=auth.app_hint,
    fixture_entry=fixture_entry,
    seed_keys=("name", "token"),
    testing="polytag.dialects.juzibot.testing",
    commands=commands.COMMANDS,
    console=Console(grouped=True, hue="orange"),
)

__all__ = ["DIALECT", "LIMITS", "Endpoint"]
