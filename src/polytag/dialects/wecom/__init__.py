"""The WeCom dialect: `/cgi-bin/` customer-contact corp tags (`externalcontact/*`), marking a
member's customers, the customer reads that carry tags, and `gettoken`.

It shares the `/cgi-bin/` prefix with the WeChat OA dialect (one server, one port): its paths
(`gettoken`, `externalcontact/*`) are its own, and a token names its dialect.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from polytag.core.ids import generated_ext_ids
from polytag.core.limits import Limits
from polytag.core.models import App
from polytag.core.service import Service
from polytag.dialects import Console, Dialect, Endpoint, from_errors
from polytag.dialects.wecom import auth, callbacks, customers, errors, parts, routes, simulate
from polytag.store import Tx

LIMITS = Limits(
    tags_per_app=3000,       # corp tags per enterprise (spec C2: the older doc; newer pages count 10,000 with rule tags)
    tags_per_subject=3000,   # mark_tag: tags one member may put on one customer (a subject is a pair)
    tag_name_max=30,         # group and tag names: at most 30 characters
    tag_name_unit="chars",
    page_size=100,           # batch/get_by_user `limit`
    batch={"get_by_user": 100},  # batch/get_by_user `userid_list`
)

# `created_in_seconds`: every face of the corp stamps tags in whole seconds (WeCom's create_time),
# so JuziBot's createTimestamp of the same tag is create_time * 1000 exactly
APP_CONFIG = {"id_scheme": "et", "created_in_seconds": True}


def _customers(entry: Mapping[str, Any], members: list[str]) -> list[tuple[str, str, str, list[str]]]:
    """(external_userid, unionid, name, follow_users) of the entry's customers."""
    given = entry.get("customers") or []
    if isinstance(given, Mapping):  # {generate: N, follow_users: [..]}: followed by every member by default
        follow = [str(u) for u in given.get("follow_users") or members]
        ids = generated_ext_ids(f"wecom:{entry['corpid']}", int(given.get("generate", 0)), "wm", 32)
        return [(e, *customers.profile_of_generated(e), follow) for e in ids]
    return [(str(c["external_userid"]), str(c.get("unionid") or ""), str(c.get("name") or ""),
             [str(u) for u in c.get("follow_users") or []]) for c in given]


def _tags(group: Mapping[str, Any]) -> list[tuple[str, int]]:
    return [(str(t["name"]), int(t.get("order", 0))) for t in group.get("tags") or []]


def seed_app(service: Service, entry: Mapping[str, Any]) -> App:
    """`{dialect: wecom, corpid, secret, members: [userid, ..], customers: [{external_userid,
    unionid, name, follow_users: [userid, ..]}] | {generate: N}, groups: [{name, order, tags:
    [{name, order}]}], limits: {..}, callable: false, agentid: N}`; groups are optional (and `callback:`, which
    polytag.seed applies)."""
    corpid, secret = str(entry["corpid"]), str(entry["secret"])
    members = [str(m) for m in entry.get("members") or []]
    found = _customers(entry, members)
    config: dict[str, Any] = {**APP_CONFIG, **({"limits": entry["limits"]} if "limits" in entry else {})}
    if "agentid" in entry:  # AgentID of the callback envelope
        config["agentid"] = int(entry["agentid"])
    if entry.get("callable") is False:  # a secret that may not call the customer-contact APIs: 48002
        config["callable"] = False
    if not isinstance(entry.get("customers"), Mapping):
        config["profiles"] = {e: [u, n] for e, u, n, _ in found}
        # another face of the corp names a customer by unionid (JuziBot's unionId)
        config["customer_by_unionid"] = {u: e for e, u, _n, _f in found if u}
    groups = [(str(g["name"]), int(g.get("order", 0)), _tags(g)) for g in entry.get("groups") or []]

    def op(tx: Tx) -> App:
        now = service.clock.now()
        app, _ = service.apps.upsert(tx, "wecom", corpid, secret_hash=auth.secret_hash(secret),
                                     config=config, now=now)
        contacts = parts.contacts(service)
        contacts.add_members(tx, app, members, int(now))
        for ext, _unionid, _name, follow in found:
            contacts.add_customer(tx, app, ext, follow, int(now))
        for name, order, tags in groups:
            service.groups.add_tags(tx, app, tags, group_name=name, group_order=order,
                                        now_ms=service.now_s() * 1000)
        return app

    return service.write_sync(op)


GET, POST = ("GET",), ("POST",)
X = "externalcontact/"

ENDPOINTS = [
    Endpoint("gettoken", GET, auth.gettoken, auth=False),
    Endpoint(X + "get_corp_tag_list", POST, routes.get_corp_tag_list),
    Endpoint(X + "add_corp_tag", POST, routes.add_corp_tag),
    Endpoint(X + "edit_corp_tag", POST, routes.edit_corp_tag),
    Endpoint(X + "del_corp_tag", POST, routes.del_corp_tag),
    Endpoint(X + "mark_tag", POST, routes.mark_tag),
    Endpoint(X + "list", GET, customers.list_),
    Endpoint(X + "get", GET, customers.get),
    Endpoint(X + "batch/get_by_user", POST, customers.batch_get_by_user),
]

def fixture_entry(tag: str) -> dict[str, Any]:
    """A corp with fresh credentials and one member (the pytest plugin's `polytag_app("wecom")`)."""
    return {"corpid": f"ww{tag}", "secret": secrets.token_hex(16), "members": ["zhangsan"]}


DIALECT = Dialect(
    name="wecom",
    prefix="/cgi-bin",
    endpoints=ENDPOINTS,
    limits=LIMITS,
    authenticate=auth.authenticate,
    seed_app=seed_app,
    **from_errors(errors),
    parts=parts.build,
    app_hint=auth.app_hint,
    fixture_entry=fixture_entry,
    seed_keys=("corpid", "secret"),
    console=Console(grouped=True, hue="purple"),
    callbacks=callbacks.face(simulate.ACTIONS),
)

__all__ = ["DIALECT", "LIMITS", "Endpoint"]
