"""Tencent IM `v4/` endpoints: `all_member_push` tags, attributes and push; `im_open_login_svc` accounts.

Each handler parses the wire, calls the core (its parts, `im(service)`), and shapes the wire.
"""

from __future__ import annotations

from typing import Any

from polytag.core.models import App
from polytag.core.pushes import Condition
from polytag.dialects import Call, Endpoint
from polytag.dialects.tencent_im import body
from polytag.dialects.tencent_im.errors import PUSH_FAMILY, envelope, result_item
from polytag.dialects.tencent_im.parts import im
from polytag.errors import LimitExceeded

ACCOUNTS = "im_open_login_svc"


def _app(call: Call) -> App:
    assert call.app is not None
    return call.app


def ok(**extra: Any) -> dict[str, Any]:
    return envelope(PUSH_FAMILY, 0, **extra)


def ok_accounts(**extra: Any) -> dict[str, Any]:
    return envelope(ACCOUNTS, 0, **extra)


# tags ---------------------------------------------------------------------------------------
async def im_add_tag(call: Call) -> dict[str, Any]:
    items = body.user_items(body.json_body(call), "UserTags", "Tags", "list")
    svc, app = call.service, _app(call)
    await svc.write(lambda tx: im(svc).user_tags.add(tx, app, items), pure=True, app=app)
    return ok()


async def im_get_tag(call: Call) -> dict[str, Any]:
    accounts = body.strings(body.json_body(call), "To_Account")
    got = im(call.service).user_tags.get(_app(call), accounts)
    return ok(UserTags=[{"To_Account": a, "Tags": tags} for a, tags in got])


async def im_remove_tag(call: Call) -> dict[str, Any]:
    items = body.user_items(body.json_body(call), "UserTags", "Tags", "list")
    svc, app = call.service, _app(call)
    await svc.write(lambda tx: im(svc).user_tags.remove(tx, app, items), pure=True, app=app)
    return ok()


async def im_remove_all_tags(call: Call) -> dict[str, Any]:
    accounts = body.strings(body.json_body(call), "To_Account")
    svc, app = call.service, _app(call)
    await svc.write(lambda tx: im(svc).user_tags.remove_all(tx, app, accounts), pure=True, app=app)
    return ok()


# attributes ---------------------------------------------------------------------------------
async def im_set_attr_name(call: Call) -> dict[str, Any]:
    names = body.text_map(body.json_body(call), "AttrNames")
    svc, app = call.service, _app(call)
    await svc.write(lambda tx: im(svc).attributes.set_names(tx, app, names), app=app)
    return ok()


async def im_get_attr_name(call: Call) -> dict[str, Any]:
    body.json_body(call)
    names = im(call.service).attributes.names(_app(call))
    return ok(AttrNames={str(slot): name for slot, name in names.items()})


async def im_set_attr(call: Call) -> dict[str, Any]:
    items = body.user_items(body.json_body(call), "UserAttrs", "Attrs", "map")
    svc, app = call.service, _app(call)
    await svc.write(lambda tx: im(svc).attributes.set_values(tx, app, items), app=app)
    return ok()


async def im_get_attr(call: Call) -> dict[str, Any]:
    accounts = body.strings(body.json_body(call), "To_Account")
    got = im(call.service).attributes.get(_app(call), accounts)
    return ok(UserAttrs=[{"To_Account": a, "Attrs": attrs} for a, attrs in got])


async def im_remove_attr(call: Call) -> dict[str, Any]:
    items = body.user_items(body.json_body(call), "UserAttrs", "Attrs", "list")
    svc, app = call.service, _app(call)
    await svc.write(lambda tx: im(svc).attributes.remove_values(tx, app, items), app=app)
    return ok()


# push ---------------------------------------------------------------------------------------
def _condition(b: dict[str, Any]) -> Condition:
    c = body.mapping(b, "Condition", required=False)
    return Condition(
        tags_and=body.strings(c, "TagsAnd", False), tags_or=body.strings(c, "TagsOr", False),
        attrs_and=body.text_map(c, "AttrsAnd", False), attrs_or=body.text_map(c, "AttrsOr", False),
    )


async def im_push(call: Call) -> dict[str, Any]:
    cap = _app(call).limits.push_body_max
    if cap is not None and len(call.body) > cap:
        raise LimitExceeded("push_body_bytes", len(call.body), cap)
    b = body.json_body(call)
    msg_random = body.uint32(b, "MsgRandom")
    lifetime = body.uint32(b, "MsgLifeTime", required=False)
    body.objects(b, "MsgBody")
    from_account = body.string(b, "From_Account", required=False)
    svc, app = call.service, _app(call)
    op = im(svc).pushes.prepare(app, msg_random, _condition(b), lifetime, from_account)
    return ok(TaskId=await svc.write(op, app=app))


# accounts -----------------------------------------------------------------------------------
def _profile(item: dict[str, Any]) -> dict[str, str]:
    return {k: body.string(item, k) for k in ("Nick", "FaceUrl") if item.get(k) is not None}


async def account_import(call: Call) -> dict[str, Any]:
    b = body.json_body(call)
    user_id, profile = body.string(b, "UserID"), _profile(b)
    svc, app = call.service, _app(call)
    await svc.write(lambda tx: im(svc).accounts.import_one(tx, app, user_id, profile), app=app)
    return ok_accounts()


async def multiaccount_import(call: Call) -> dict[str, Any]:
    """Two body forms: `AccountList` of objects (current docs) or `Accounts` of strings (older docs)."""
    b = body.json_body(call)
    items: list[tuple[object, dict[str, str]]]
    if b.get("AccountList") is not None:
        items = [(i.get("UserID"), _profile(i)) for i in body.objects(b, "AccountList")]
    else:
        items = [(a, {}) for a in body.strings(b, "Accounts")]
    svc, app = call.service, _app(call)
    failed = await svc.write(lambda tx: im(svc).accounts.import_many(tx, app, items), app=app)
    return ok_accounts(FailAccounts=failed)


async def account_delete(call: Call) -> dict[str, Any]:
    ids = [body.string(i, "UserID") for i in body.objects(body.json_body(call), "DeleteItem")]
    svc, app = call.service, _app(call)
    done = await svc.write(lambda tx: im(svc).accounts.delete_many(tx, app, ids), app=app)
    return ok_accounts(ResultItem=[result_item(d, UserID=i) for i, d in zip(ids, done, strict=True)])


async def account_check(call: Call) -> dict[str, Any]:
    ids = [body.string(i, "UserID") for i in body.objects(body.json_body(call), "CheckItem")]
    found = im(call.service).accounts.check_many(_app(call), ids)
    return ok_accounts(ResultItem=[
        {"UserID": i, "ResultCode": 0, "ResultInfo": "", "AccountStatus": "Imported" if f else "NotImported"}
        for i, f in zip(ids, found, strict=True)
    ])


POST = ("POST",)

ENDPOINTS = [
    Endpoint("all_member_push/im_add_tag", POST, im_add_tag),
    Endpoint("all_member_push/im_get_tag", POST, im_get_tag),
    Endpoint("all_member_push/im_remove_tag", POST, im_remove_tag),
    Endpoint("all_member_push/im_remove_all_tags", POST, im_remove_all_tags),
    Endpoint("all_member_push/im_set_attr_name", POST, im_set_attr_name),
    Endpoint("all_member_push/im_get_attr_name", POST, im_get_attr_name),
    Endpoint("all_member_push/im_set_attr", POST, im_set_attr),
    Endpoint("all_member_push/im_get_attr", POST, im_get_attr),
    Endpoint("all_member_push/im_remove_attr", POST, im_remove_attr),
    Endpoint("all_member_push/im_push", POST, im_push),
    Endpoint(f"{ACCOUNTS}/account_import", POST, account_import),
    Endpoint(f"{ACCOUNTS}/multiaccount_import", POST, multiaccount_import),
    Endpoint(f"{ACCOUNTS}/account_delete", POST, account_delete),
    Endpoint(f"{ACCOUNTS}/account_check", POST, account_check),
]

# the rest of the families, answered 60009 by the catch-all and listed as "not implemented"
NOT_IMPLEMENTED = [
    f"{ACCOUNTS}/kick", f"{ACCOUNTS}/query_online_status",
]
