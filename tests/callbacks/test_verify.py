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


def test_the_decrypt_and_echo_variant(wechat: TestClient, receiver: Receiver, hub: object) -> None:
    """WeCom's URL check (an encrypted echostr, msg_signature, the corp id inside) runs through the
    same verify path when a face brings it: here a WeChat app stands in for a WeCom one."""
    import dataclasses

    from polytag.callbacks.handshake import encrypted_echo

    faces = hub.faces  # type: ignore[attr-defined]
    wecom_like = dataclasses.replace(faces["wechat"], handshake=lambda app, cfg, stamp: encrypted_echo(
        cfg, app.name, stamp))
    hub.faces = {**faces, "wechat": wecom_like}  # type: ignore[attr-defined]
    configure(wechat, receiver, "safe")
    out = wechat.post(VERIFY, json={"app": APPID}).json()
    (got,) = receiver.received
    assert "msg_signature" in got.query and "signature" not in got.query
    assert got.query["echostr"] != out["expected"]  # sent encrypted ...
    assert out["ok"] is True and out["answer"]["body"] == out["expected"]  # ... echoed in plain
