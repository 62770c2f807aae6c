"""WeCom customer reads that carry tags: `externalcontact/list`, `get`, `batch/get_by_user`.

A customer (external contact) is the core's customer keyed by its `external_userid`; each member
who added it is a friendship, and tags are marked per friendship (core/contacts.py). Its name and
unionid come from the seed (`profiles` in the app's config), or are derived from the id.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from typing import Any

from polytag.core.contacts import CarriedTag
from polytag.core.models import App
from polytag.dialects import Call
from polytag.dialects._wire import decimal
from polytag.dialects.wecom import body, parts
from polytag.dialects.wecom.routes import OK, app_of
from polytag.errors import Invalid, LimitExceeded, NotFound
from polytag.store.rows import Rows

PAGE_DEFAULT, PAGE_MAX = 50, 100  # batch/get_by_user `limit`: default 50, more is taken as 100


def profile_of_generated(external_userid: str) -> tuple[str, str]:
    """(unionid, name) of a customer the seed generated: derived from its id, the same every run."""
    digest = base64.urlsafe_b64encode(hashlib.sha256(external_userid.encode()).digest()).decode()
    return "oz" + digest[:26], "客户" + external_userid[-4:]


def profile(app: App, external_userid: str) -> tuple[str, str]:
    """(unionid, name): the seed's, or those of a generated customer."""
    got = (app.config.get("profiles") or {}).get(external_userid)
    return (str(got[0]), str(got[1])) if got else profile_of_generated(external_userid)


def _contact(app: App, external_userid: str) -> dict[str, Any]:
    unionid, name = profile(app, external_userid)
    out: dict[str, Any] = {"external_userid": external_userid, "name": name, "avatar": "", "type": 1,
                           "gender": 0}
    if unionid:  # WeCom shows it only for a customer bound to the corp's open platform account
        out["unionid"] = unionid
    return out


def _follow(user_id: str, createtime: int, tags: dict[str, Any]) -> dict[str, Any]:
    return {"userid": user_id, "remark": "", "description": "", "createtime": createtime, **tags,
            "remark_mobiles": [], "add_way": 0, "oper_userid": user_id}


def _by_member(carried: list[CarriedTag]) -> dict[str, list[CarriedTag]]:
    out: dict[str, list[CarriedTag]] = {}
    for c in carried:
        for member in c.members:
            out.setdefault(member, []).append(c)
    return out


def _member(rows: Rows, app: App, user_id: str) -> None:
    if not rows.member_exists(app.id, user_id):
        raise NotFound("member", user_id)


async def list_(call: Call) -> dict[str, Any]:
    """GET externalcontact/list?userid= : the member's customers' external_userids."""
    app, user_id = app_of(call), body.query(call, "userid")
    rows = call.service.store.read()
    _member(rows, app, user_id)
    return {**OK, "external_userid": [str(r[0]) for r in rows.customers_of(app.id, user_id)]}


async def get(call: Call) -> dict[str, Any]:
    """GET externalcontact/get?external_userid= : the customer and every member who added it,
    each with the tags that member put on it (`type` 1: a corp tag)."""
    app, ext = app_of(call), body.query(call, "external_userid")
    svc = call.service
    carried = _by_member(parts.contacts(svc).customer_tags(app, ext))  # NotFound("customer") first
    rows = svc.store.read()
    created, friends = rows.customer_created_at(app.id, ext) or 0, rows.friends_of(app.id, ext)
    if not friends:  # every member deleted it, or it deleted them: no external contact of the corp
        raise NotFound("friendship", ext)
    follow = [_follow(str(u), created, {"tags": [
        {"group_name": c.group_name, "tag_name": c.tag.name, "tag_id": c.tag.ext_id, "type": 1}
        for c in carried.get(str(u), [])]}) for u, _ord in friends]
    return {**OK, "external_contact": _contact(app, ext), "follow_user": follow}


def _cursor(text: str | None) -> int:
    if not text:
        return 0
    try:
        n = decimal(base64.urlsafe_b64decode(text.encode("ascii") + b"==").decode("ascii"))
    except (binascii.Error, UnicodeError, ValueError):
        n = None
    if n is None or n < 0:
        raise Invalid("cursor", "bad", text)
    return n


def _next_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(str(offset).encode()).decode().rstrip("=")


def _limit(value: int | None) -> int:
    if value is None:
        return PAGE_DEFAULT
    if value < 1:
        raise Invalid("limit", "range", value)
    return min(value, PAGE_MAX)


def _pairs(rows: Rows, app: App, user_ids: Sequence[str]) -> list[tuple[str, str, int]]:
    """(member, customer, created_at) of every friendship of the members, in the list's order."""
    out: list[tuple[str, str, int]] = []
    for user_id in dict.fromkeys(user_ids):
        _member(rows, app, user_id)
        out += [(user_id, str(r[0]), int(r[1])) for r in rows.customers_of(app.id, user_id)]
    return out


async def batch_get_by_user(call: Call) -> dict[str, Any]:
    """POST externalcontact/batch/get_by_user {userid_list (1..100), cursor, limit (<=100)}."""
    b = body.json_body(call)
    user_ids = body.strings(b, "userid_list")
    cap = app_of(call).limits.batch_max("get_by_user")
    if not user_ids:
        raise Invalid("userid_list", "missing")
    if cap is not None and len(user_ids) > cap:
        raise LimitExceeded("batch", len(user_ids), cap)
    start, limit = _cursor(body.opt_string(b, "cursor")), _limit(body.opt_int(b, "limit"))
    svc, app = call.service, app_of(call)
    pairs = _pairs(svc.store.read(), app, user_ids)
    page = pairs[start:start + limit]
    contacts, seen = parts.contacts(svc), {}
    out = []
    for user_id, ext, created in page:
        if ext not in seen:
            seen[ext] = _by_member(contacts.customer_tags(app, ext))
        tag_ids = {"tag_id": [c.tag.ext_id for c in seen[ext].get(user_id, [])]}
        out.append({"external_contact": _contact(app, ext), "follow_info": _follow(user_id, created, tag_ids)})
    more = start + limit < len(pairs)
    return {**OK, "external_contact_list": out, "next_cursor": _next_cursor(start + limit) if more else ""}
