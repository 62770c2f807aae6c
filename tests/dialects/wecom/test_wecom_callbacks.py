"""WeCom customer-contact callbacks: simulated client and admin-console changes, delivered in
WeCom's encrypted envelope, opened by wechatpy's enterprise crypto and parser; what the dialect
serves afterwards; the URL check; and that changes made through the API (either face) push nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import xmltodict
from starlette.testclient import TestClient
from wechatpy.enterprise import parse_message
from wechatpy.enterprise.crypto import WeChatCrypto

from polytag import seed
from polytag.callbacks.receiver import Received, Receiver
from polytag.core.service import Service
from tests import et_id
from tests.callbacks.conftest import configure, deliveries, flush
from tests.callbacks.conftest import simulate as cb_simulate
from tests.dialects.juzibot.conftest import call as jz_call
from tests.dialects.wecom.conftest import (
    CORPID,
    CUSTOMER,
    FACE,
    JZ_TOKEN,
    MAIN,
    UNIONID,
    call,
    token,
)

NEW = "wmNewCustomer000000000000000001"


@pytest.fixture
def corp(seeded: Callable[[dict[str, Any]], list[Any]], client: TestClient) -> TestClient:
    seeded({"apps": [{**MAIN, "agentid": 1000005}, FACE]})
    return client


@pytest.fixture
def rcv(receivers: Callable[..., Receiver], corp: TestClient) -> Receiver:
    r = receivers(CORPID)
    configure(corp, r, "safe", app=CORPID)
    return r


def simulate(client: TestClient, action: str, status: int = 200, **doc: Any) -> dict[str, Any]:
    return cb_simulate(client, action, status, app=CORPID, **doc)


def opened(r: Receiver, got: Received) -> dict[str, Any]:
    """What a developer's handler does with wechatpy: check msg_signature, decrypt, parse."""
    q = got.query
    assert set(q) == {"msg_signature", "timestamp", "nonce"}
    outer = xmltodict.parse(got.body)["xml"]
    assert outer["ToUserName"] == CORPID and outer["AgentID"] == "1000005" and set(outer) == {
        "ToUserName", "AgentID", "Encrypt"}
    xml = WeChatCrypto(r.token, r.encoding_aes_key, CORPID).decrypt_message(
        got.body.decode(), q["msg_signature"], q["timestamp"], q["nonce"])
    msg = parse_message(xml)  # wechatpy 1.8 has no class of its own for these events: its generic one
    assert msg._data["MsgType"] == "event" and msg.source == "sys" and msg.target == CORPID
    fields: dict[str, Any] = xmltodict.parse(xml)["xml"]
    return fields


def pushed(client: TestClient, r: Receiver) -> list[dict[str, Any]]:
    flush(client)
    return [opened(r, p) for p in r.pushes()]


def test_every_customer_event(corp: TestClient, rcv: Receiver) -> None:
    simulate(corp, "add_customer", userid="lisi", external_userid=NEW, name="赵六", unionid="ozNew", state="spring")
    simulate(corp, "edit_customer", userid="lisi", external_userid=NEW, add_tag=[et_id(CORPID, "tag", 0)])
    simulate(corp, "del_customer", userid="lisi", external_userid=NEW, by="customer")
    simulate(corp, "del_customer", userid="zhangsan", external_userid=CUSTOMER)
    got = pushed(corp, rcv)
    assert [(e["Event"], e["ChangeType"], e["UserID"], e["ExternalUserID"]) for e in got] == [
        ("change_external_contact", "add_external_contact", "lisi", NEW),
        ("change_external_contact", "edit_external_contact", "lisi", NEW),
        ("change_external_contact", "del_follow_user", "lisi", NEW),
        ("change_external_contact", "del_external_contact", "zhangsan", CUSTOMER)]
    assert got[0]["State"] == "spring" and len(got[0]["WelcomeCode"]) == 43
    assert all("State" not in e and "WelcomeCode" not in e for e in got[1:])
    assert all(e["CreateTime"].isdigit() and e["MsgType"] == "event" for e in got)
    assert [d["state"] for d in deliveries(corp, CORPID)] == ["delivered"] * 4


def test_customer_changes_show_in_the_reads(corp: TestClient) -> None:
    tk, vip = token(corp), et_id(CORPID, "tag", 0)
    simulate(corp, "add_customer", userid="lisi", external_userid=NEW, name="赵六", unionid="ozNew")
    assert NEW in call(corp, "externalcontact/list", method="GET", access_token=tk, userid="lisi")["external_userid"]
    got = call(corp, "externalcontact/get", method="GET", access_token=tk, external_userid=NEW)
    assert got["external_contact"]["name"] == "赵六" and got["external_contact"]["unionid"] == "ozNew"
    assert [f["userid"] for f in got["follow_user"]] == ["lisi"]
    simulate(corp, "edit_customer", userid="lisi", external_userid=NEW, add_tag=[vip])
    got = call(corp, "externalcontact/get", method="GET", access_token=tk, external_userid=NEW)
    assert [t["tag_id"] for t in got["follow_user"][0]["tags"]] == [vip]
    simulate(corp, "del_customer", userid="lisi", external_userid=NEW)
    assert NEW not in call(corp, "externalcontact/list", method="GET", access_token=tk, userid="lisi")["external_userid"]
    assert call(corp, "externalcontact/get", method="GET", access_token=tk, external_userid=NEW)["errcode"] == 84061
    simulate(corp, "add_customer", userid="lisi", external_userid=NEW)  # back: a friend again, untagged
    got = call(corp, "externalcontact/get", method="GET", access_token=tk, external_userid=NEW)
    assert got["follow_user"][0]["tags"] == [] and got["external_contact"]["name"] == "赵六"
    assert call(corp, "externalcontact/mark_tag", {"userid": "lisi", "external_userid": NEW, "add_tag": [vip]},
                access_token=tk)["errcode"] == 0


def test_the_juzibot_face_sees_a_deleted_friendship(corp: TestClient) -> None:
    vip = et_id(CORPID, "tag", 0)
    mark = {"mark_list": [{"userId": "zhangsan", "unionId": UNIONID, "addTagId": [vip]}]}
    assert jz_call(corp, "tag/mark", mark, token=JZ_TOKEN)["errcode"] == 0
    simulate(corp, "del_customer", userid="zhangsan", external_userid=CUSTOMER)
    assert jz_call(corp, "tag/mark", mark, token=JZ_TOKEN)["errcode"] != 0  # no friendship to mark any more


def test_every_tag_event(corp: TestClient, rcv: Receiver) -> None:
    tk, g0, t0, t1 = token(corp), et_id(CORPID, "group", 0), et_id(CORPID, "tag", 0), et_id(CORPID, "tag", 1)
    new_group = simulate(corp, "create_tag", group_name="来源", name="展会")["events"][0]["fields"]["Id"]
    new_tag = simulate(corp, "create_tag", group_id=g0, name="流失")["events"][0]["fields"]["Id"]
    simulate(corp, "edit_tag", id=t0, name="VIP客户")
    simulate(corp, "edit_tag", id=g0, order=99)
    simulate(corp, "shuffle", group_id=g0, order=[new_tag, t1, t0])
    simulate(corp, "shuffle", order=[new_group, g0])
    simulate(corp, "delete_tag", id=et_id(CORPID, "tag", 2))  # the new group's only tag: the group goes too
    simulate(corp, "delete_tag", id=g0)  # a group with its tags: one event
    got = pushed(corp, rcv)
    assert [(e["Event"], e["ChangeType"], e["Id"], e.get("TagType")) for e in got] == [
        ("change_external_tag", "create", new_group, "tag_group"), ("change_external_tag", "create", new_tag, "tag"),
        ("change_external_tag", "update", t0, "tag"), ("change_external_tag", "update", g0, "tag_group"),
        ("change_external_tag", "shuffle", g0, None), ("change_external_tag", "shuffle", None, None),
        ("change_external_tag", "delete", et_id(CORPID, "tag", 2), "tag"),
        ("change_external_tag", "delete", new_group, "tag_group"), ("change_external_tag", "delete", g0, "tag_group")]
    assert call(corp, "externalcontact/get_corp_tag_list", {}, access_token=tk)["tag_group"] == []


def test_tag_changes_show_in_the_list(corp: TestClient) -> None:
    tk, g0, t0, t1 = token(corp), et_id(CORPID, "group", 0), et_id(CORPID, "tag", 0), et_id(CORPID, "tag", 1)
    new_group = simulate(corp, "create_tag", group_name="来源", name="展会", order=3, group_order=50)
    simulate(corp, "edit_tag", id=t0, name="VIP客户")
    simulate(corp, "shuffle", group_id=g0, order=[t1, t0])
    listed = call(corp, "externalcontact/get_corp_tag_list", {}, access_token=tk)["tag_group"]
    assert [g["group_name"] for g in listed] == ["来源", "客户等级"]  # order 50 before 10
    assert [t["name"] for t in listed[1]["tag"]] == ["普通", "VIP客户"]
    simulate(corp, "shuffle", order=[g0, new_group["events"][0]["fields"]["Id"]])
    listed = call(corp, "externalcontact/get_corp_tag_list", {}, access_token=tk)["tag_group"]
    assert [g["group_name"] for g in listed] == ["客户等级", "来源"]


def test_changes_made_through_the_api_push_nothing(corp: TestClient, rcv: Receiver) -> None:
    """WeCom: "通过API进行的操作不会产生回调"; JuziBot's face of the corp is built on that API."""
    tk, vip = token(corp), et_id(CORPID, "tag", 0)
    assert call(corp, "externalcontact/add_corp_tag", {"group_name": "接口", "tag": [{"name": "x"}]},
                access_token=tk)["errcode"] == 0
    assert call(corp, "externalcontact/mark_tag", {"userid": "zhangsan", "external_userid": CUSTOMER,
                                                   "add_tag": [vip]}, access_token=tk)["errcode"] == 0
    assert call(corp, "externalcontact/del_corp_tag", {"tag_id": [vip]}, access_token=tk)["errcode"] == 0
    mark = {"mark_list": [{"userId": "zhangsan", "unionId": UNIONID, "addTagId": [et_id(CORPID, "tag", 1)]}]}
    assert jz_call(corp, "tag/mark", mark, token=JZ_TOKEN)["errcode"] == 0
    simulate(corp, "edit_customer", userid="zhangsan", external_userid=CUSTOMER)  # one that does push
    flush(corp)
    assert [d["event"] for d in deliveries(corp, CORPID)] == ["change_external_contact"]


def test_the_url_check_as_wechatpy_checks_it(corp: TestClient, receivers: Callable[..., Receiver]) -> None:
    good = receivers(CORPID)
    configure(corp, good, "safe", app=CORPID)
    out = corp.post("/_polytag/callbacks/verify", json={"app": CORPID}).json()
    q = dict(parse_qsl(urlsplit(out["request"]["url"]).query))
    assert set(q) == {"msg_signature", "timestamp", "nonce", "echostr"}
    plain = WeChatCrypto(good.token, good.encoding_aes_key, CORPID).check_signature(
        q["msg_signature"], q["timestamp"], q["nonce"], q["echostr"])
    assert plain == out["expected"] and out["ok"] is True
    wrong = receivers(CORPID, echo=False)
    configure(corp, wrong, "safe", app=CORPID)
    assert corp.post("/_polytag/callbacks/verify", json={"app": CORPID}).json()["ok"] is False


def test_wecom_is_always_encrypted(corp: TestClient, receivers: Callable[..., Receiver],
                                   service: Service) -> None:
    r = receivers(CORPID)
    doc = {"url": r.url, "token": r.token, "encoding_aes_key": r.encoding_aes_key, "mode": "plain"}
    resp = corp.put("/_polytag/callbacks/config", params={"app": CORPID}, json=doc)
    assert resp.status_code == 400 and "`mode` must be one of safe" in resp.json()["error"]
    with pytest.raises(seed.SeedError, match="mode"):
        seed.apply(service, seed.validate({"apps": [{**MAIN, "callback": doc}]}), _found())
    with pytest.raises(seed.SeedError, match="sends no callbacks"):
        seed.apply(service, seed.validate({"apps": [{**FACE, "callback": {**doc, "mode": "safe"}}]}), _found())


def test_a_seeded_callback(service: Service, receivers: Callable[..., Receiver], client: TestClient) -> None:
    r = receivers(CORPID)
    doc = {"url": r.url, "token": r.token, "encoding_aes_key": r.encoding_aes_key}
    (app,) = seed.apply(service, seed.validate({"apps": [{**MAIN, "callback": doc}]}), _found())
    assert app.config["callback"]["mode"] == "safe"  # the dialect's only mode is its default
    simulate(client, "edit_customer", userid="zhangsan", external_userid=CUSTOMER)
    flush(client)
    assert [p.query.keys() >= {"msg_signature"} for p in r.pushes()] == [True]


def _found() -> Any:
    from polytag import dialects

    return dialects.discover()


@pytest.mark.parametrize(("doc", "words"), [
    ({"action": "add_customer"}, "`userid` must be"),
    ({"action": "add_customer", "userid": "nobody"}, "no member 'nobody'"),
    ({"action": "add_customer", "userid": "zhangsan", "external_userid": CUSTOMER}, "already a customer of zhangsan"),
    ({"action": "add_customer", "userid": "zhangsan", "name": "x" * 65}, "`name` must be"),
    ({"action": "edit_customer", "userid": "lisi", "external_userid": CUSTOMER}, "no friendship"),
    ({"action": "edit_customer", "userid": "zhangsan", "external_userid": CUSTOMER, "add_tag": ["etnope"]},
     "no tag 'etnope'"),
    ({"action": "edit_customer", "userid": "zhangsan", "external_userid": CUSTOMER, "add_tag": "x"}, "`add_tag`"),
    ({"action": "del_customer", "userid": "zhangsan", "external_userid": CUSTOMER, "by": "admin"}, "`by` must be"),
    ({"action": "del_customer", "userid": "zhangsan", "external_userid": "wmNobody"}, "no customer"),
    ({"action": "create_tag", "name": "x"}, "one of `group_id`, `group_name`"),
    ({"action": "create_tag", "group_name": "g", "name": "x" * 31}, "`name`: too long"),
    ({"action": "create_tag", "group_id": "etnope", "name": "x"}, "no group 'etnope'"),
    ({"action": "create_tag", "group_name": "g", "name": "x", "order": -1}, "`order`"),
    ({"action": "edit_tag", "id": "etnope", "name": "x"}, "no tag or group 'etnope'"),
    ({"action": "edit_tag", "id": et_id(CORPID, "tag", 0)}, "`name_or_order`: empty"),
    ({"action": "edit_tag", "id": et_id(CORPID, "tag", 0), "name": "普通"}, "is taken"),
    ({"action": "delete_tag"}, "`id` must be"),
    ({"action": "shuffle", "order": [et_id(CORPID, "group", 0), "etnope"]}, "`order` must list every group"),
    ({"action": "shuffle", "group_id": "etnope", "order": []}, "no group 'etnope'"),
    ({"action": "shuffle", "group_id": 5, "order": []}, "`group_id` must be"),
    ({"action": "follow"}, "`action` must be one of add_customer"),
])
def test_bad_simulate_input_is_400(corp: TestClient, doc: dict[str, Any], words: str) -> None:
    resp = corp.post("/_polytag/simulate", json={"app": CORPID, **doc})
    assert resp.status_code == 400 and words in resp.json()["error"], resp.text
    tk = token(corp)  # and nothing changed
    assert len(call(corp, "externalcontact/get_corp_tag_list", {}, access_token=tk)["tag_group"][0]["tag"]) == 2
    assert call(corp, "externalcontact/list", method="GET", access_token=tk, userid="zhangsan")[
        "external_userid"] == sorted([CUSTOMER, "wmqfasd1e1927831123"])
