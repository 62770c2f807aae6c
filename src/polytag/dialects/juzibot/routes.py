"""JuziBot tag endpoints (`/api/v1/tag/*`, `/api/v1/tagGroup/*`): parse the wire, call the core, shape.

Every answer is `{"errcode":0,"errmsg":"ok"}`, with `data` (an array of groups) on list, detail
and create, in the seed's key order.
"""

from __future__ import annotations

from typing import Any

from polytag.core.contacts import Mark
from polytag.core.groups import Listing
from polytag.core.models import App, Tag
from polytag.dialects import Call, Endpoint
from polytag.dialects.juzibot import body
from polytag.dialects.juzibot.parts import contacts
from polytag.store import Tx

OK: dict[str, Any] = {"errcode": 0, "errmsg": "ok"}


def _app(call: Call) -> App:
    assert call.app is not None
    return call.app


def _tag_json(tag: Tag) -> dict[str, Any]:
    return {"id": tag.ext_id, "name": tag.name, "createTimestamp": tag.created_ms, "order": tag.order}


def _data(listings: list[Listing]) -> dict[str, Any]:
    data = [{"id": g.group.ext_id, "name": g.group.name, "createTimestamp": g.group.created_ms,
             "order": g.group.order, "tags": [_tag_json(t) for t in g.tags]} for g in listings]
    return {**OK, "data": data}


def _name(d: dict[str, Any]) -> str | None:
    """An edit's `name`: an empty string counts as absent (the seed: "can not be empty")."""
    return body.opt_string(d, "name") or None


async def tag_list(call: Call) -> dict[str, Any]:
    """GET tag/list; `isSync` is accepted and ignored: polytag is the source, there is nothing to pull."""
    return _data(call.service.groups.listing(_app(call)))


async def tag_detail(call: Call) -> dict[str, Any]:
    tag_id = body.string(dict(call.query), "tagId")
    return _data([call.service.groups.detail(_app(call), tag_id)])


async def tag_create(call: Call) -> dict[str, Any]:
    b = body.json_body(call)
    group_id, group_name = body.opt_string(b, "groupId"), body.opt_string(b, "groupName")
    group_order = body.opt_int(b, "order") or 0
    tags = [(body.opt_string(t, "name") or "", body.opt_int(t, "order") or 0) for t in body.objects(b, "tag")]
    svc, app = call.service, _app(call)

    now_ms = svc.now_s() * 1000 if app.config.get("created_in_seconds") else svc.now_ms()

    def op(tx: Tx) -> Listing:
        return svc.groups.add_tags(tx, app, tags, group_ext=group_id, group_name=group_name,
                                       group_order=group_order, now_ms=now_ms)

    return _data([await svc.write(op, app=app)])


async def tagGroup_edit(call: Call) -> dict[str, Any]:  # noqa: N802 - the vendor's action name
    b = body.json_body(call)
    ext, name, order = body.string(b, "id"), _name(b), body.opt_int(b, "order")
    svc, app = call.service, _app(call)
    await svc.write(lambda tx: svc.groups.edit_group(tx, app, ext, name=name, order=order), app=app)
    return OK


async def tag_edit(call: Call) -> dict[str, Any]:
    b = body.json_body(call)
    ext, name, order = body.string(b, "id"), _name(b), body.opt_int(b, "order")
    svc, app = call.service, _app(call)
    await svc.write(lambda tx: svc.groups.edit_tag(tx, app, ext, name=name, order=order), app=app)
    return OK


async def tagGroup_delete(call: Call) -> dict[str, Any]:  # noqa: N802 - the vendor's action name
    ids = body.strings(body.json_body(call), "id", required=True)
    svc, app = call.service, _app(call)
    await svc.write(lambda tx: svc.groups.delete_groups(tx, app, ids), app=app)
    return OK


async def tag_delete(call: Call) -> dict[str, Any]:
    ids = body.strings(body.json_body(call), "id", required=True)
    svc, app = call.service, _app(call)
    await svc.write(lambda tx: svc.groups.delete_tags(tx, app, ids), app=app)
    return OK


async def tag_mark(call: Call) -> dict[str, Any]:
    svc, app = call.service, _app(call)
    customer = app.config.get("customer_by_unionid") or {}  # a corp seen through this face keys customers its way
    marks = [Mark(body.string(m, "userId"), customer.get(u, u), body.strings(m, "addTagId"), body.strings(m, "delTagId"))
             for m in body.objects(body.json_body(call), "mark_list") for u in [body.string(m, "unionId")]]
    await svc.write(lambda tx: contacts(svc).mark(tx, app, marks), pure=True, app=app)
    return OK


GET, POST = ("GET",), ("POST",)

ENDPOINTS = [
    Endpoint("tag/list", GET, tag_list),
    Endpoint("tag/detail", GET, tag_detail),
    Endpoint("tag/create", POST, tag_create),
    Endpoint("tagGroup/edit", POST, tagGroup_edit),
    Endpoint("tag/edit", POST, tag_edit),
    Endpoint("tagGroup/delete", POST, tagGroup_delete),
    Endpoint("tag/delete", POST, tag_delete),
    Endpoint("tag/mark", POST, tag_mark),
]
