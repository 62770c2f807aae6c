"""WeCom rules beyond the wire bytes: tokens over time, the shared /cgi-bin/ prefix, paging every
customer, the bounds of `order`, seeds (generated customers, bounds, idempotence), hostile input."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from polytag import seed
from polytag.core.ids import generated_ext_ids
from polytag.core.limits import BOUNDS
from polytag.core.service import Service
from polytag.dialects.wecom.errors import MESSAGES
from tests.dialects.wechat.conftest import MAIN as WX_MAIN
from tests.dialects.wechat.conftest import get_token
from tests.dialects.wecom.conftest import CUSTOMER, EPOCH, MAIN, call, token


def _code(got: dict[str, Any]) -> int:
    return int(got["errcode"])


def test_a_token_is_handed_out_again_until_it_expires(service: Service, wc: TestClient,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    first = token(wc)
    assert token(wc) == first
    monkeypatch.setattr(service.clock, "now", lambda: EPOCH + 7000)
    got = call(wc, "gettoken", method="GET", corpid=MAIN["corpid"], corpsecret=MAIN["secret"])
    assert (got["access_token"], got["expires_in"]) == (first, 200)
    assert _code(call(wc, "externalcontact/get_corp_tag_list", {}, access_token=first)) == 0
    monkeypatch.setattr(service.clock, "now", lambda: EPOCH + 7200)
    got = call(wc, "externalcontact/get_corp_tag_list", {}, access_token=first)
    assert _code(got) == 42001 and got["errmsg"].startswith("access_token expired, hint: [")
    fresh = token(wc)
    assert fresh != first and _code(call(wc, "externalcontact/get_corp_tag_list", {}, access_token=fresh)) == 0


def test_errmsg_has_wecoms_shape(wc: TestClient) -> None:
    got = call(wc, "externalcontact/mark_tag", {"userid": "lisi", "external_userid": CUSTOMER, "add_tag": ["x"]},
               access_token=token(wc))
    head, _, tail = got["errmsg"].partition(", hint: [")
    hint, _, rest = tail.partition("], from ip: ")
    assert (head, len(hint), hint.isdigit()) == (MESSAGES[84061][0], 25, True)
    assert rest == "testclient, more info at https://open.work.weixin.qq.com/devtool/query?e=84061"


def test_wechat_and_wecom_share_cgi_bin_by_path_and_token(
        wc: TestClient, seeded: Callable[[dict[str, Any]], list[Any]]) -> None:
    """One server, one port: each path goes to its dialect, and a token works only in its own."""
    seeded({"apps": [{"dialect": "wechat", **WX_MAIN, "followers": ["oF1"]}]})
    wx, we = get_token(wc, WX_MAIN), token(wc)
    assert "tags" in wc.get("/cgi-bin/tags/get", params={"access_token": wx}).json()
    assert _code(call(wc, "externalcontact/get_corp_tag_list", {}, access_token=we)) == 0
    assert _code(call(wc, "externalcontact/get_corp_tag_list", {}, access_token=wx)) == 40014
    assert wc.get("/cgi-bin/tags/get", params={"access_token": we}).json()["errcode"] == 40001
    # a corpid is not an appid, nor the reverse
    assert _code(call(wc, "gettoken", method="GET", corpid=WX_MAIN["appid"], corpsecret=WX_MAIN["secret"])) == 40013
    got = wc.get("/cgi-bin/token", params={"grant_type": "client_credential", "appid": MAIN["corpid"],
                                            "secret": MAIN["secret"]}).json()
    assert got["errcode"] == 40013


def test_order_bounds(wc: TestClient) -> None:
    t = token(wc)
    top = {"group_name": "边界", "order": 2**32 - 1, "tag": [{"name": "顶", "order": 2**32 - 1}]}
    got = call(wc, "externalcontact/add_corp_tag", top, access_token=t)
    assert got["tag_group"]["order"] == 2**32 - 1
    listed = call(wc, "externalcontact/get_corp_tag_list", {}, access_token=t)["tag_group"]
    assert listed[0]["group_name"] == "边界"  # larger first
    for bad, code in ((2**32, 40058), (-1, 40058), (2**64, 47001)):  # past 64 bits: not a number we read
        got = call(wc, "externalcontact/add_corp_tag", {**top, "group_name": "新", "order": bad}, access_token=t)
        assert _code(got) == code, (bad, got)
        got = call(wc, "externalcontact/add_corp_tag", {**top, "tag": [{"name": "顶", "order": bad}]},
                   access_token=t)
        assert _code(got) == code, (bad, got)


def test_thirty_characters_not_bytes(wc: TestClient) -> None:
    t = token(wc)
    got = call(wc, "externalcontact/add_corp_tag", {"group_name": "字" * 30, "tag": [{"name": "😀" * 30}]},
               access_token=t)
    assert _code(got) == 0, got
    assert _code(call(wc, "externalcontact/add_corp_tag", {"group_name": "x", "tag": [{"name": "字" * 31}]},
                      access_token=t)) == 40072


def test_batch_get_by_user_pages_every_friendship_once(service: Service,
                                                      seeded: Callable[[dict[str, Any]], list[Any]],
                                                      client: TestClient) -> None:
    entry = {"dialect": "wecom", "corpid": "wwpaging", "secret": "s", "members": ["a", "b"],
             "customers": {"generate": 130}}
    seeded({"apps": [entry]})
    t = token(client, entry)
    seen, cursor, pages = [], "", 0
    while True:
        got = call(client, "externalcontact/batch/get_by_user",
                   {"userid_list": ["a", "b"], "cursor": cursor, "limit": 1000}, access_token=t)
        assert _code(got) == 0 and len(got["external_contact_list"]) <= 100
        seen += [(e["follow_info"]["userid"], e["external_contact"]["external_userid"])
                 for e in got["external_contact_list"]]
        pages, cursor = pages + 1, got["next_cursor"]
        if not cursor:
            break
    ids = generated_ext_ids("wecom:wwpaging", 130, "wm", 32)
    assert pages == 3 and sorted(seen) == sorted((m, e) for m in "ab" for e in ids)
    assert len(call(client, "externalcontact/batch/get_by_user", {"userid_list": ["a"]},
                    access_token=t)["external_contact_list"]) == 50  # the default limit
    got = call(client, "externalcontact/batch/get_by_user", {"userid_list": ["a"] * 101}, access_token=t)
    assert _code(got) == 40058
    listed = call(client, "externalcontact/list", method="GET", access_token=t, userid="b")
    assert listed["external_userid"] == sorted(ids)


def test_generated_customers_are_bounded_like_every_seed() -> None:
    entry = {"dialect": "wecom", "corpid": "ww", "secret": "s", "customers": {"generate": BOUNDS.seed_generate + 1}}
    with pytest.raises(seed.SeedError, match="BOUNDS.seed_generate"):
        seed.validate({"apps": [entry]})


def test_seeding_twice_changes_nothing(service: Service, seeded: Callable[[dict[str, Any]], list[Any]],
                                       wc: TestClient) -> None:
    before = call(wc, "externalcontact/get_corp_tag_list", {}, access_token=token(wc))
    seeded({"apps": [MAIN]})
    assert call(wc, "externalcontact/get_corp_tag_list", {}, access_token=token(wc)) == before


def test_a_mark_survives_in_the_customer_reads(wc: TestClient) -> None:
    t = token(wc)
    groups = call(wc, "externalcontact/get_corp_tag_list", {}, access_token=t)["tag_group"]
    vip = groups[0]["tag"][0]["id"]
    assert _code(call(wc, "externalcontact/mark_tag", {"userid": "zhangsan", "external_userid": CUSTOMER,
                                                        "add_tag": [vip]}, access_token=t)) == 0
    got = call(wc, "externalcontact/batch/get_by_user", {"userid_list": ["zhangsan"]}, access_token=t)
    by_ext = {e["external_contact"]["external_userid"]: e["follow_info"]["tag_id"] for e in got["external_contact_list"]}
    assert by_ext[CUSTOMER] == [vip]
    assert _code(call(wc, "externalcontact/del_corp_tag", {"tag_id": [vip]}, access_token=t)) == 0
    got = call(wc, "externalcontact/get", method="GET", access_token=t, external_userid=CUSTOMER)
    assert got["follow_user"][0]["tags"] == []  # a deleted tag leaves the customers it marked


@pytest.mark.parametrize("raw", [b"", b"{", b"[]", b"null", b'{"tag_id": [1]}', b'{"group_id": {}}',
                                 b'{"tag": "x", "group_name": "g"}', b'{"userid_list": "a"}', b"\xff",
                                 b'{"id": 5}', b'{"add_tag": [null], "userid": "zhangsan"}'])
def test_hostile_bodies_get_wecom_codes(wc: TestClient, raw: bytes) -> None:
    t = token(wc)
    for path in ("get_corp_tag_list", "add_corp_tag", "edit_corp_tag", "del_corp_tag", "mark_tag",
                 "batch/get_by_user"):
        resp = wc.post(f"/cgi-bin/externalcontact/{path}", params={"access_token": t}, content=raw)
        got = json.loads(resp.content)
        assert resp.status_code == 200 and got["errcode"] in MESSAGES and got["errcode"] != -1, (path, got)
