"""JuziBot customers: `GET customer/list` and `GET customer/detail`, from the seeded friendships.

Sources: docs.juzibot.com/customer/ (the list: `current`, `pageSize` up to 1,000, optional
`userId`; each customer with `followUser`, each follow with the `tags` that member put on them,
`total` after `data`); the one public client of `customer/detail` (a tag/mark script) calls it
with `externalUserId` and reads `data.unionId`, so `data` is one customer in the list's shape.
"""

from __future__ import annotations

from typing import Any

from polytag.core.customers import Customer, Follow
from polytag.core.models import App
from polytag.dialects import Call, Endpoint
from polytag.dialects.juzibot.parts import customers
from polytag.errors import Invalid

OK: dict[str, Any] = {"errcode": 0, "errmsg": "ok"}
CORP_TAG = "1"  # followUser.tags[].type: 1 corp tag, 2 personal tag (polytag has corp tags only)
WECHAT_USER = 1  # data.type: 1 WeChat user, 2 WeCom user
UNKNOWN_GENDER = 0


def _app(call: Call) -> App:
    assert call.app is not None
    return call.app


def _query_int(call: Call, key: str) -> int:
    """A required positive decimal in the query string; anything else is 40058."""
    text = call.query.get(key, "")
    if not (text.isascii() and text.isdigit() and len(text) <= 9):
        raise Invalid(key, "value", None, f"{key} is not a positive integer")
    return int(text)


def _follow(f: Follow) -> dict[str, Any]:
    tags = [{"groupName": group, "tagName": t.name, "type": CORP_TAG, "tagId": t.ext_id} for t, group in f.tags]
    return {"userId": f.user_id, "name": f.user_id, "remark": "", "createTimestamp": f.since * 1000,
            "tags": tags}


def _customer(c: Customer) -> dict[str, Any]:
    p = c.profile
    return {
        "externalUserId": c.external_id, "unionId": c.union_id, "name": str(p.get("name") or c.union_id),
        "gender": int(p.get("gender", UNKNOWN_GENDER)), "type": int(p.get("type", WECHAT_USER)),
        "followUser": [_follow(f) for f in c.follows],
    }


async def customer_list(call: Call) -> dict[str, Any]:
    page, size = _query_int(call, "current"), _query_int(call, "pageSize")
    user_id = call.query.get("userId") or None
    total, found = customers(call.service).page(_app(call), user_id, page, size)
    return {**OK, "data": [_customer(c) for c in found], "total": total}


async def customer_detail(call: Call) -> dict[str, Any]:
    """By `externalUserId` (the public client's way) or `unionId`; neither is 40058."""
    external, union = call.query.get("externalUserId") or None, call.query.get("unionId") or None
    if external is None and union is None:
        raise Invalid("externalUserId", "missing", None, "externalUserId or unionId is required")
    found = customers(call.service).detail(_app(call), union_id=union, external_id=external)
    return {**OK, "data": _customer(found)}


GET = ("GET",)

ENDPOINTS = [
    Endpoint("customer/list", GET, customer_list),
    Endpoint("customer/detail", GET, customer_detail),
]
