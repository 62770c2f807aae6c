"""WeCom corp tag endpoints (`/cgi-bin/externalcontact/*_corp_tag*`, `mark_tag`): parse, call, shape.

Every answer is `{"errcode":0,"errmsg":"ok", ...}` in WeCom's key order; `create_time` is in
seconds (the core keeps milliseconds). The core's group rules are WeCom's own (core/groups.py).
"""

from __future__ import annotations

from typing import Any

from polytag.core.contacts import Mark
from polytag.core.groups import Listing
from polytag.core.models import App, Tag, TagGroup
from polytag.dialects import Call
from polytag.dialects.wecom import body, parts
from polytag.errors import Invalid, NotFound
from polytag.store import Tx

OK: dict[str, Any] = {"errcode": 0, "errmsg": "ok"}


def app_of(call: Call) -> App:
    assert call.app is not None
    return call.app


def _tag(tag: Tag, listed: bool) -> dict[str, Any]:
    out = {"id": tag.ext_id, "name": tag.name, "create_time": tag.created_ms // 1000, "order": tag.order}
    return {**out, "deleted": False} if listed else out


def _group(group: TagGroup, tags: list[Tag], listed: bool) -> dict[str, Any]:
    """A group as get_corp_tag_list (`listed`, with `deleted`) or add_corp_tag shows it."""
    out: dict[str, Any] = {"group_id": group.ext_id, "group_name": group.name,
                           "create_time": group.created_ms // 1000, "order": group.order}
    if listed:
        out["deleted"] = False  # deleted items are forgotten, never listed (docs/compat/wecom.md)
    out["tag"] = [_tag(t, listed) for t in tags]
    return out


def _filtered(listings: list[Listing], tag_ids: list[str], group_ids: list[str]) -> list[Listing]:
    """Both empty: everything; `group_id` given: those groups whole (then `tag_id` is ignored);
    else the groups of those tags with only those tags. Ids nobody has are left out."""
    if group_ids:
        wanted = set(group_ids)
        return [g for g in listings if g.group.ext_id in wanted]
    if tag_ids:
        tags = set(tag_ids)
        picked = [Listing(g.group, [t for t in g.tags if t.ext_id in tags]) for g in listings]
        return [g for g in picked if g.tags]
    return listings


async def get_corp_tag_list(call: Call) -> dict[str, Any]:
    b = body.json_body(call)
    tag_ids, group_ids = body.strings(b, "tag_id"), body.strings(b, "group_id")
    listings = _filtered(call.service.groups.listing(app_of(call)), tag_ids, group_ids)
    return {**OK, "tag_group": [_group(g.group, g.tags, True) for g in listings]}


async def add_corp_tag(call: Call) -> dict[str, Any]:
    b = body.json_body(call)
    group_id, group_name = body.opt_string(b, "group_id") or None, body.opt_string(b, "group_name")
    if group_id is None and not group_name:
        raise Invalid("group_name", "missing")
    order = body.opt_int(b, "order") or 0
    tags = [(body.opt_string(t, "name") or "", body.opt_int(t, "order") or 0) for t in body.objects(b, "tag")]
    svc, app = call.service, app_of(call)

    def op(tx: Tx) -> Listing:
        return svc.groups.add_tags(tx, app, tags, group_ext=group_id, group_name=group_name,
                                       group_order=order, now_ms=svc.now_s() * 1000)  # create_time: seconds

    got = await svc.write(op, app=app)
    return {**OK, "tag_group": _group(got.group, got.tags, False)}


async def edit_corp_tag(call: Call) -> dict[str, Any]:
    """`id` is a tag's or a group's; an empty `name` counts as absent."""
    b = body.json_body(call)
    ext, name, order = body.string(b, "id"), body.opt_string(b, "name") or None, body.opt_int(b, "order")
    svc, app = call.service, app_of(call)

    def op(tx: Tx) -> None:
        groups = svc.groups
        try:
            groups.edit_tag(tx, app, ext, name=name, order=order)
        except NotFound:
            groups.edit_group(tx, app, ext, name=name, order=order)

    await svc.write(op, app=app)
    return OK


async def del_corp_tag(call: Call) -> dict[str, Any]:
    """Groups with their tags, and tags (a group left empty goes too); every id is checked first."""
    b = body.json_body(call)
    tag_ids, group_ids = body.strings(b, "tag_id"), body.strings(b, "group_id")
    if not tag_ids and not group_ids:
        raise Invalid("tag_id", "missing")
    svc, app = call.service, app_of(call)

    def op(tx: Tx) -> None:
        groups = svc.groups
        gone = {groups.group(app, e, tx).ord for e in group_ids}
        tags = [groups.tag(app, e, tx) for e in tag_ids]
        if group_ids:
            groups.delete_groups(tx, app, group_ids)
        left = list(dict.fromkeys(t.ext_id for t in tags if t.group_ord not in gone))
        if left:
            groups.delete_tags(tx, app, left)

    await svc.write(op, app=app)
    return OK


async def mark_tag(call: Call) -> dict[str, Any]:
    """One member's one customer; tags to remove go first, then tags to add (core/contacts.py)."""
    b = body.json_body(call)
    mark = Mark(body.string(b, "userid"), body.string(b, "external_userid"),
                body.strings(b, "add_tag"), body.strings(b, "remove_tag"))
    svc, app = call.service, app_of(call)
    await svc.write(lambda tx: parts.contacts(svc).mark(tx, app, [mark]), pure=True, app=app)
    return OK
