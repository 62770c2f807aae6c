"""POST /_polytag/callbacks/verify: WeChat's URL check against a server that answers right or wrong."""

from __future__ import annotations

from starlette.testclient import TestClient
from wechatpy.utils import check_signature

from polytag.callbacks.receiver import Receiver, Reply
from tests.callbacks.conftest import APPID, configure, deliveries

VERIFY = "/_polytag/callbacks/verify"


def test_a_right_server_echoes(wechat: TestClient, receiver: Receiver) -> None:
    configure(wechat, receiver, "safe")  # the check is signed in plain in every mode
    out = wechat.post(VERIFY, json={"app": APPID}).json()
    assert out["ok"] is True and out["answer"]["status"] == 200 and out["answer"]["body"] == out["expected"]
    (got,) = receiver.received
    assert got.method == "GET" and got.query["echostr"] == out["expected"]
    check_signature(receiver.token, got.query["signature"], got.query["timestamp"], got.query["nonce"])
    (d,) = deliveries(wechat)
    assert d["event"] == "url_check" and d["state"] == "delivered"


def test_a_wrong_server_fails(wechat: TestClient, receiver: Receiver) -> None:
    receiver.echo = False
    configure(wechat, receiver)
    out = wechat.post(VERIFY, json={"app": APPID}).json()
    assert out["ok"] is False and out["answer"]["body"] == "wrong"
    assert deliveries(wechat)[0]["state"] == "failed"


def test_a_server_that_errs_or_is_gone(wechat: TestClient, receiver: Receiver) -> None:
    configure(wechat, receiver)
    receiver.echo = False
    receiver.answer = lambda got: Reply(500, b"boom")  # type: ignore[method-assign]
    out = wechat.post(VERIFY, json={"app": APPID}).json()
    assert out["ok"] is False and out["answer"]["status"] == 500
    receiver.stop()
    out = wechat.post(VERIFY, json={"app": APPID}).json()
    assert out["ok"] is False and out["answer"]["status"] is None and out["answer"]["error"]


def test_verify_needs_a_configured_app(wechat: TestClient) -> None:
    resp = wechat.post(VERIFY, json={"app": APPID})
    assert resp.status_code == 400 and "no callback configured" in resp.json()["error"]
    assert wechat.post(VERIFY, json={"app": "wxnope"}).status_code == 404
    assert wechat.post(VERIFY, json={}).status_code == 400
    assert wechat.post(VERIFY, json=[1]).status_code == 400
