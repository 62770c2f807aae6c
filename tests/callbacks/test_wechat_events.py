"""WeChat follower events: simulated, delivered in every mode, decoded by wechatpy's own crypto,
signature check and parser; and what the dialect serves afterwards."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.events import ScanEvent, SubscribeEvent, SubscribeScanEvent, UnsubscribeEvent
from wechatpy.utils import check_signature

from polytag.callbacks.receiver import Received, Receiver
from tests.callbacks.conftest import APPID, F1, configure, deliveries, flush, simulate
from tests.dialects.wechat.conftest import call, get_token

APP = {"appid": APPID, "secret": "cb-secret-1"}


def wechatpy_decode(r: Receiver, got: Received, mode: str) -> Any:
    """What a developer's handler does with wechatpy: check, decrypt when asked, parse."""
    q = got.query
    check_signature(r.token, q["signature"], q["timestamp"], q["nonce"])
    if mode == "plain":
        assert "encrypt_type" not in q and b"<Encrypt>" not in got.body
        return parse_message(got.body.decode())
    assert q["encrypt_type"] == "aes"
    xml = WeChatCrypto(r.token, r.encoding_aes_key, APPID).decrypt_message(
        got.body.decode(), q["msg_signature"], q["timestamp"], q["nonce"])
    if mode == "compat":  # the plain fields ride along with Encrypt
        assert parse_message(got.body.decode()).type == parse_message(xml).type
    else:
        assert b"<FromUserName>" not in got.body
    return parse_message(xml)


@pytest.mark.parametrize("mode", ["plain", "compat", "safe"])
def test_every_event_in_every_mode(wechat: TestClient, receiver: Receiver, mode: str) -> None:
    configure(wechat, receiver, mode)
    simulate(wechat, "follow", openid="oNewFollower0000000000000001")
    simulate(wechat, "follow", openid="oNewFollower0000000000000002", scene=42)
    simulate(wechat, "scan", openid=F1, scene="spring-sale")
    simulate(wechat, "unfollow", openid=F1)
    flush(wechat)
    got = [wechatpy_decode(receiver, p, mode) for p in receiver.pushes()]
    assert [type(e) for e in got] == [SubscribeEvent, SubscribeScanEvent, ScanEvent, UnsubscribeEvent]
    assert got[0].source == "oNewFollower0000000000000001" and got[0].target.startswith("gh_")
    assert got[1].scene_id == "42" and got[1].ticket
    assert got[2].scene_id == "spring-sale" and got[2].ticket
    assert got[3].source == F1
    for p in receiver.pushes():
        assert p.query["openid"] and p.headers["content-type"] == "text/xml"
    assert [d["state"] for d in deliveries(wechat)] == ["delivered"] * 4


def test_follow_changes_what_the_dialect_serves(wechat: TestClient, receiver: Receiver) -> None:
    token = get_token(wechat, APP)
    simulate(wechat, "follow", openid="oNewFollower0000000000000003", scene=7)
    page = call(wechat, "user/get", token, method="GET")
    assert page["total"] == 3 and page["data"]["openid"][-1] == "oNewFollower0000000000000003"
    info = call(wechat, "user/info", token, method="GET", openid="oNewFollower0000000000000003")
    assert info["subscribe"] == 1 and info["subscribe_scene"] == "ADD_SCENE_QR_CODE"
    assert info["qr_scene"] == 7 and info["qr_scene_str"] == "" and info["subscribe_time"] > 0


def test_unfollow_as_the_vendor_documents(wechat: TestClient) -> None:
    token = get_token(wechat, APP)
    assert call(wechat, "tags/members/batchtagging", token, {"openid_list": [F1], "tagid": 100}) == {
        "errcode": 0, "errmsg": "ok"}
    out = simulate(wechat, "unfollow", openid=F1)
    assert out["events"][0]["event"] == "unsubscribe" and out["note"]  # no callback configured
    assert call(wechat, "user/info", token, method="GET", openid=F1) == {"subscribe": 0, "openid": F1}
    assert F1 not in call(wechat, "user/get", token, method="GET")["data"]["openid"]
    assert call(wechat, "user/tag/get", token, {"tagid": 100}) == {"count": 0}  # an empty tag: the vendor answers the count alone
    assert [t["count"] for t in call(wechat, "tags/get", token, method="GET")["tags"] if t["id"] == 100] == [0]
    # back again: a new subscribe_time, plain scene, no tags
    simulate(wechat, "follow", openid=F1)
    info = call(wechat, "user/info", token, method="GET", openid=F1)
    assert info["subscribe"] == 1 and info["tagid_list"] == [] and info["subscribe_scene"] == "ADD_SCENE_OTHERS"


def test_scan_by_a_stranger_is_a_subscribe(wechat: TestClient) -> None:
    out = simulate(wechat, "scan", openid="oStranger0000000000000000001", scene=5)
    assert out["events"][0]["fields"]["Event"] == "subscribe"
    assert out["events"][0]["fields"]["EventKey"] == "qrscene_5"
    out = simulate(wechat, "scan", openid="oStranger0000000000000000001", scene=5)
    assert out["events"][0]["fields"]["Event"] == "SCAN" and out["events"][0]["fields"]["EventKey"] == "5"


@pytest.mark.parametrize(("doc", "words"), [
    ({"action": "follow", "openid": F1}, "already follows"),
    ({"action": "unfollow", "openid": "oNobody"}, "does not follow"),
    ({"action": "unfollow"}, "`openid`"),
    ({"action": "scan", "openid": F1}, "`scene` is required"),
    ({"action": "scan", "openid": F1, "scene": 0}, "`scene` must be"),
    ({"action": "scan", "openid": F1, "scene": "x" * 65}, "`scene` must be"),
    ({"action": "follow", "openid": "has space"}, "`openid` must be"),
    ({"action": "dance", "openid": F1}, "`action` must be one of follow, unfollow, scan"),
    ({"action": 5}, "`action` must be"),
])
def test_bad_simulate_input_is_400(wechat: TestClient, doc: dict[str, Any], words: str) -> None:
    resp = wechat.post("/_polytag/simulate", json={"app": APPID, **doc})
    assert resp.status_code == 400 and words in resp.json()["error"], resp.text


def test_simulate_names_an_app_of_a_dialect_with_callbacks(wechat: TestClient) -> None:
    assert wechat.post("/_polytag/simulate", json={"app": "nope", "action": "follow"}).status_code == 404
    assert wechat.post("/_polytag/simulate", json={"action": "follow"}).status_code == 400
    wechat.post("/_polytag/seed", json={"apps": [{"dialect": "juzibot", "name": "bot-cb", "token": "t"}]})
    resp = wechat.post("/_polytag/simulate", json={"app": "bot-cb", "action": "follow"})
    assert resp.status_code == 400 and "sends no callbacks" in resp.json()["error"]
