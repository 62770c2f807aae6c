"""Tencent IM `v4/timpush/*`: the successor of `all_member_push`, over the same tags, attributes and pushes.

Sources: tencentcloud.com/document/product/1047/{60561, 60563, 60567-60570, 67821} and the push
error table 1047/74196 (cloud.tencent.com 269/117847). The bodies and answers are those of
`all_member_push` except: `add_tag` takes `Replace` (1: the user's tags become exactly these, up
to 100 in one request), `clear_all_tags` is the new name of `im_remove_all_tags`, `set_attr_name`
takes `AttrTypes`, and `push` takes `TagsNot` and `OnlineOnlyFlag`.
"""

from __future__ import annotations

from typing import Any

from polytag.core.models import App
from polytag.core.pushes import Condition
from polytag.dialects import Call, Endpoint
from polytag.dialects.tencent_im import body, routes
from polytag.dialects.tencent_im.errors import TIMPUSH_FAMILY
from polytag.dialects.tencent_im.parts import im
from polytag.errors import Invalid, LimitExceeded

FLAGS = (0, 1)


def _app(call: Call) -> App:
    assert call.app is not None
    return call.app


def _flag(b: dict[str, Any], key: str) -> int:
    """`Replace`, `OnlineOnlyFlag`: 0 (the default) or 1; anything else is a bad body (90001)."""
    v = body.uint32(b, key, required=False)
    if v not in FLAGS:
        raise Invalid(key, "range", v)
    return v


async def add_tag(call: Call) -> dict[str, Any]:
    b = body.json_body(call)
    replace = _flag(b, "Replace")
    items = body.user_items(b, "UserTags", "Tags", "list")
    svc, app = call.service, _app(call)
    tags = im(svc).user_tags
    op = tags.replace if replace else tags.add
    await svc.write(lambda tx: op(tx, app, items), pure=True, app=app)
    return routes.ok()


def _attr_types(b: dict[str, Any], names: dict[str, str]) -> None:
    """`AttrTypes`: slot -> integer type, each slot one of `AttrNames`; accepted, not stored
    (the type says which id kind the attribute is set on; polytag has accounts only)."""
    types = body.mapping(b, "AttrTypes", required=False)
    for slot in types:
        body.uint32(types, slot)
        if slot not in names:
            raise Invalid("AttrTypes", "slot", slot)


async def set_attr_name(call: Call) -> dict[str, Any]:
    b = body.json_body(call)
    names = body.text_map(b, "AttrNames")
    _attr_types(b, names)
    svc, app = call.service, _app(call)
    await svc.write(lambda tx: im(svc).attributes.set_names(tx, app, names), app=app)
    return routes.ok()


def _condition(b: dict[str, Any]) -> Condition:
    c = body.mapping(b, "Condition", required=False)
    return Condition(
        tags_and=body.strings(c, "TagsAnd", False), tags_or=body.strings(c, "TagsOr", False),
        attrs_and=body.text_map(c, "AttrsAnd", False), attrs_or=body.text_map(c, "AttrsOr", False),
        tags_not=body.strings(c, "TagsNot", False),
    )


async def push(call: Call) -> dict[str, Any]:
    """As `im_push`; `MsgBody` is optional here (the doc's samples push `OfflinePushInfo` alone)."""
    cap = routes._app(call).limits.push_body_max
    if cap is not None and len(call.body) > cap:
        raise LimitExceeded("push_body_bytes", len(call.body), cap)
    b = body.json_body(call)
    msg_random = body.uint32(b, "MsgRandom")
    lifetime = body.uint32(b, "MsgLifeTime", required=False)
    body.objects(b, "MsgBody", required=False)
    body.mapping(b, "OfflinePushInfo", required=False)
    _flag(b, "OnlineOnlyFlag")
    from_account = body.string(b, "From_Account", required=False)
    svc, app = call.service, _app(call)
    op = im(svc).pushes.prepare(app, msg_random, _condition(b), lifetime, from_account)
    return routes.ok(TaskId=await svc.write(op, app=app))


POST = ("POST",)

ENDPOINTS = [
    Endpoint(f"{TIMPUSH_FAMILY}/add_tag", POST, add_tag),
    Endpoint(f"{TIMPUSH_FAMILY}/get_tag", POST, routes.im_get_tag),
    Endpoint(f"{TIMPUSH_FAMILY}/remove_tag", POST, routes.im_remove_tag),
    Endpoint(f"{TIMPUSH_FAMILY}/clear_all_tags", POST, routes.im_remove_all_tags),
    Endpoint(f"{TIMPUSH_FAMILY}/set_attr_name", POST, set_attr_name),
    Endpoint(f"{TIMPUSH_FAMILY}/get_attr_name", POST, routes.im_get_attr_name),
    Endpoint(f"{TIMPUSH_FAMILY}/set_attr", POST, routes.im_set_attr),
    Endpoint(f"{TIMPUSH_FAMILY}/get_attr", POST, routes.im_get_attr),
    Endpoint(f"{TIMPUSH_FAMILY}/remove_attr", POST, routes.im_remove_attr),
    Endpoint(f"{TIMPUSH_FAMILY}/push", POST, push),
]
