"""WeChat OA tag, follower and blacklist endpoints: parse the wire, call the Service, shape the wire.

Ack endpoints answer `{"errcode":0,"errmsg":"ok"}`; data endpoints answer the payload alone,
with no errcode (spec A1).
"""

from __future__ import annotations

from typing import Any

from polytag.core.models import App, Tag
from polytag.dialects import Call, Endpoint, Handler
from polytag.dialects.wechat import auth, body
from polytag.store import Tx

OK = {"errcode": 0, "errmsg": "ok"}
STARRED = ("2", "星标组")


def _app(call: Call) -> App:
    assert call.app is not None
    return call.app


def _tag_json(tag: Tag) -> dict[str, Any]:
    return {"id": int(tag.ext_id), "name": tag.name}


def _page(items: list[str], nxt: str | None, total: int | None = None) -> dict[str, Any]:
    """A follower page; the call after the last one answers count 0 and an empty next_openid."""
    out: dict[str, Any] = {} if total is None else {"total": total}
    if not items:
        return {**out, "count": 0, "next_openid": ""}
    return {**out, "count": len(items), "data": {"openid": items}, "next_openid": nxt or ""}


# tags ---------------------------------------------------------------------------------------
async def tags_create(call: Call) -> dict[str, Any]:
    name = body.string(body.obj(body.json_body(call), "tag"), "name")
    svc, app = call.service, _app(call)
    tag = await svc.write(lambda tx: svc.tags.create(tx, app, name, now_ms=svc.now_ms()), app=app)
    return {"tag": _tag_json(tag)}


async def tags_get(call: Call) -> dict[str, Any]:
    tags = call.service.tags.all(_app(call))
    return {"tags": [{**_tag_json(t), "count": t.count} for t in tags]}


async def tags_update(call: Call) -> dict[str, Any]:
    tag = body.obj(body.json_body(call), "tag")
    tag_id, name = body.integer(tag, "id"), body.string(tag, "name")
    svc, app = call.service, _app(call)
    await svc.write(lambda tx: svc.tags.update(tx, app, str(tag_id), name=name), app=app)
    return OK


async def tags_delete(call: Call) -> dict[str, Any]:
    tag_id = body.integer(body.obj(body.json_body(call), "tag"), "id")
    svc, app = call.service, _app(call)
    await svc.write(lambda tx: svc.tags.delete(tx, app, str(tag_id)), app=app)
    return OK


async def user_tag_get(call: Call) -> dict[str, Any]:
    """POST JSON, or GET with a JSON body (the old doc) or with query parameters."""
    b = body.optional_body(call) if call.method == "GET" else body.json_body(call)
    if call.method == "GET" and not b:
        b = {k: body.query(call, k) for k in ("tagid", "next_openid") if k in call.query}
    tag_id, after = body.integer(b, "tagid"), body.string(b, "next_openid")
    app = _app(call)
    page = call.service.tag_members_page(app, str(tag_id), after or None, app.limits.page_size)
    if not page.items:  # an empty tag or past the last page: the vendor's answer (wechatpy issue 273)
        return {"count": 0}
    return _page(page.items, page.next)


async def batchtagging(call: Call) -> dict[str, Any]:
    b = body.json_body(call)
    openids, tag_id = body.strings(b, "openid_list"), body.integer(b, "tagid")
    svc, app = call.service, _app(call)
    await svc.write(lambda tx: svc.tag_subjects(tx, app, str(tag_id), openids), pure=True, app=app)
    return OK


async def batchuntagging(call: Call) -> dict[str, Any]:
    b = body.json_body(call)
    openids, tag_id = body.strings(b, "openid_list"), body.integer(b, "tagid")
    svc, app = call.service, _app(call)
    await svc.write(lambda tx: svc.untag_subjects(tx, app, str(tag_id), openids), pure=True, app=app)
    return OK


async def getidlist(call: Call) -> dict[str, Any]:
    openid = body.string(body.json_body(call), "openid")
    tags = call.service.subject_tags(_app(call), openid)
    return {"tagid_list": [int(t.ext_id) for t in tags]}


# followers -----------------------------------------------------------------------------------
async def user_get(call: Call) -> dict[str, Any]:
    app = _app(call)
    page = call.service.subjects_page(app, body.query(call, "next_openid") or None, app.limits.page_size)
    return _page(page.items, page.next, page.total)


LANGUAGES = "follower_languages"  # app config: openid -> the follower's own language (seeded)
DEFAULT_LANGUAGE = "zh_CN"


def _info(call: Call, openid: str, lang: str) -> dict[str, Any]:
    """`language` is the follower's own (WeChat's UI language); `lang` only picks the language
    of country/province/city, which polytag does not hold, so it changes nothing here."""
    app = _app(call)
    language = str((app.config.get(LANGUAGES) or {}).get(openid, DEFAULT_LANGUAGE))
    subject = call.service.subject(app, openid)
    if not subject.active:
        return {"subscribe": 0, "openid": openid}
    tags = call.service.subject_tags(app, openid)
    return {
        "subscribe": 1, "openid": openid, "language": language,
        "subscribe_time": subject.props.get("subscribe_time", subject.created_at),  # a follow sets it
        "remark": subject.remark, "groupid": 0, "tagid_list": [int(t.ext_id) for t in tags],
        "subscribe_scene": subject.props.get("subscribe_scene", "ADD_SCENE_OTHERS"),
        "qr_scene": subject.props.get("qr_scene", 0), "qr_scene_str": subject.props.get("qr_scene_str", ""),
    }


async def user_info(call: Call) -> dict[str, Any]:
    return _info(call, body.query(call, "openid"), body.query(call, "lang") or "zh_CN")


async def user_info_batchget(call: Call) -> dict[str, Any]:
    items = body.objects(body.json_body(call), "user_list")
    call.service.check_batch(_app(call), "info", len(items))  # 40032: empty or over 100
    wanted = [(body.string(i, "openid"), body.string(i, "lang", "zh_CN") or "zh_CN") for i in items]
    return {"user_info_list": [_info(call, openid, lang) for openid, lang in wanted]}


async def updateremark(call: Call) -> dict[str, Any]:
    b = body.json_body(call)
    openid, remark = body.string(b, "openid"), body.string(b, "remark")
    svc, app = call.service, _app(call)
    await svc.write(lambda tx: svc.update_remark(tx, app, openid, remark), app=app)
    return OK


# blacklist -----------------------------------------------------------------------------------
async def getblacklist(call: Call) -> dict[str, Any]:
    begin = body.string(body.optional_body(call), "begin_openid")
    app = _app(call)
    page = call.service.blacklist_page(app, begin or None, app.limits.page_size)
    return _page(page.items, page.next, page.total)


def _blacklist(flag: bool) -> Handler:
    async def handler(call: Call) -> dict[str, Any]:
        openids = body.strings(body.json_body(call), "openid_list")
        svc, app = call.service, _app(call)

        def op(tx: Tx) -> None:
            svc.set_blacklisted(tx, app, openids, flag)

        await svc.write(op, app=app)
        return OK

    return handler


GET, POST = ("GET",), ("POST",)

ENDPOINTS = [
    Endpoint("token", GET, auth.token, auth=False),
    Endpoint("stable_token", POST, auth.stable_token, auth=False),
    Endpoint("tags/create", POST, tags_create),
    Endpoint("tags/get", GET, tags_get),
    Endpoint("tags/update", POST, tags_update),
    Endpoint("tags/delete", POST, tags_delete),
    Endpoint("user/tag/get", ("GET", "POST"), user_tag_get),
    Endpoint("tags/members/batchtagging", POST, batchtagging),
    Endpoint("tags/members/batchuntagging", POST, batchuntagging),
    Endpoint("tags/getidlist", POST, getidlist),
    Endpoint("user/get", GET, user_get),
    Endpoint("user/info", GET, user_info),
    Endpoint("user/info/batchget", POST, user_info_batchget),
    Endpoint("user/info/updateremark", POST, updateremark),
    Endpoint("tags/members/getblacklist", POST, getblacklist),
    Endpoint("tags/members/batchblacklist", POST, _blacklist(True)),
    Endpoint("tags/members/batchunblacklist", POST, _blacklist(False)),
]

from polytag.dialects.wechat import mass  # noqa: E402  (mass messaging: its own module)

ENDPOINTS += mass.ENDPOINTS
