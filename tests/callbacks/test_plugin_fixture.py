"""The `polytag_callbacks` fixture against a live server: the built-in receiver, a developer's
FastAPI handler written with wechatpy (the docs/testing.md example), and a bare WSGI handler;
the CLI commands over the same server."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from click.testing import CliRunner
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import check_signature

from polytag.callbacks.target import CallbackTarget
from polytag.cli import main
from polytag.testing import PolytagApp, PolytagServer, wechat_client


def welcome_service(token: str, aes_key: str, appid: str, welcomed: set[str]) -> FastAPI:
    """A developer's WeChat callback handler: it remembers who followed and who left."""
    api = FastAPI()
    crypto = WeChatCrypto(token, aes_key, appid)

    @api.get("/wechat")
    def url_check(signature: str, timestamp: str, nonce: str, echostr: str) -> PlainTextResponse:
        check_signature(token, signature, timestamp, nonce)
        return PlainTextResponse(echostr)

    @api.post("/wechat")
    async def events(request: Request, signature: str, timestamp: str, nonce: str,
                     msg_signature: str = "") -> PlainTextResponse:
        check_signature(token, signature, timestamp, nonce)
        body = (await request.body()).decode()
        xml = crypto.decrypt_message(body, msg_signature, timestamp, nonce) if msg_signature else body
        msg = parse_message(xml)
        if msg.event in ("subscribe", "subscribe_scan"):
            welcomed.add(msg.source)
        elif msg.event == "unsubscribe":
            welcomed.discard(msg.source)
        return PlainTextResponse("success")

    return api


def test_builtin_receiver(polytag_wechat_app: PolytagApp, polytag_callbacks: Callable[..., CallbackTarget]) -> None:
    cb = polytag_callbacks(polytag_wechat_app, mode="compat")
    assert cb.verify()["ok"]
    cb.simulate("follow", openid="oPluginFollower", scene="ad-1")
    cb.simulate("unfollow", openid="oPluginFollower")
    got = cb.events()
    assert [(e["Event"], e["FromUserName"]) for e in got] == [("subscribe", "oPluginFollower"),
                                                              ("unsubscribe", "oPluginFollower")]
    assert got[0]["EventKey"] == "qrscene_ad-1"


def test_a_developers_fastapi_handler(polytag_server: PolytagServer, polytag_wechat_app: PolytagApp,
                                      polytag_callbacks: Callable[..., CallbackTarget]) -> None:
    welcomed: set[str] = set()
    token, key = "handlerToken1", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
    api = welcome_service(token, key, polytag_wechat_app.name, welcomed)
    cb = polytag_callbacks(polytag_wechat_app, mode="safe", handler=api, path="/wechat",
                           token=token, encoding_aes_key=key)
    assert cb.verify()["ok"]
    cb.simulate("follow", openid="oFastApiFollower1")
    cb.simulate("scan", openid="oFastApiFollower2", scene=9)
    assert len(cb.events()) == 2
    assert welcomed == {"oFastApiFollower1", "oFastApiFollower2"}
    assert all(d["state"] == "delivered" for d in cb.deliveries())
    # and the vendor API agrees
    client = wechat_client(polytag_server.url, polytag_wechat_app.name, polytag_wechat_app.secret)
    assert "oFastApiFollower2" in client.user.get_followers()["data"]["openid"]
    assert client.user.get("oFastApiFollower2")["qr_scene"] == 9
    client._http.close()


def test_a_wsgi_handler(polytag_wechat_app: PolytagApp, polytag_callbacks: Callable[..., CallbackTarget]) -> None:
    bodies: list[bytes] = []

    def wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        size = int(environ.get("CONTENT_LENGTH") or 0)
        bodies.append(environ["wsgi.input"].read(size))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"success"]

    cb = polytag_callbacks(polytag_wechat_app, mode="plain", handler=wsgi)
    cb.simulate("follow", openid="oWsgiFollower")
    assert [e["FromUserName"] for e in cb.events()] == ["oWsgiFollower"]
    assert b"oWsgiFollower" in bodies[-1]


def test_cli(polytag_server: PolytagServer, polytag_wechat_app: PolytagApp,
             polytag_callbacks: Callable[..., CallbackTarget]) -> None:
    polytag_callbacks(polytag_wechat_app, mode="plain")
    opts = ["--url", polytag_server.url, "--admin-key", polytag_server.admin_key or ""]
    runner, app = CliRunner(), polytag_wechat_app.name
    out = runner.invoke(main, ["simulate", app, "follow", "--openid", "oCliFollower", "--scene", "3", *opts])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["events"][0]["fields"]["EventKey"] == "qrscene_3"
    assert runner.invoke(main, ["callbacks", "flush", "--app", app, *opts]).output.strip() == "settled"
    lines = runner.invoke(main, ["callbacks", "list", "--app", app, *opts]).output.splitlines()
    assert [json.loads(line)["state"] for line in lines] == ["delivered"]
    out = runner.invoke(main, ["callbacks", "config", app, "--mode", "bogus", *opts])
    assert out.exit_code != 0 and "`mode`" in out.output
    assert json.loads(runner.invoke(main, ["callbacks", "verify", app, *opts]).output)["ok"] is True


def test_a_mass_send_reports_its_job_finished(polytag_server: PolytagServer, polytag_wechat_app: PolytagApp,
                                              polytag_callbacks: Callable[..., CallbackTarget]) -> None:
    """sendall and send each push MASSSENDJOBFINISH with the send's msg_id and its counts, in the
    configured mode; wechatpy's own crypto and parser read it (a preview pushes nothing)."""
    cb = polytag_callbacks(polytag_wechat_app, mode="safe")
    client = wechat_client(polytag_server.url, polytag_wechat_app.name, polytag_wechat_app.secret)
    followers = polytag_wechat_app.entry["followers"]
    everyone = client.message.send_mass_text(None, "hello", is_to_all=True)
    listed = client.message.send_mass_text(followers[:2], "hi two")
    client.message.send_mass_text(followers[0], "preview", preview=True)
    got = cb.events()
    assert [e["Event"] for e in got] == ["MASSSENDJOBFINISH", "MASSSENDJOBFINISH"]
    assert [(int(e["MsgID"]), e["Status"], int(e["SentCount"]), int(e["ErrorCount"])) for e in got] == [
        (everyone["msg_id"], "send success", 3, 0), (listed["msg_id"], "send success", 2, 0)]
    raw = [d for d in cb.deliveries() if d["event"] == "MASSSENDJOBFINISH"][0]["request"]
    crypto = WeChatCrypto(cb.token, cb.encoding_aes_key, polytag_wechat_app.name)
    from urllib.parse import parse_qsl, urlsplit

    q = dict(parse_qsl(urlsplit(raw["url"]).query))
    msg = parse_message(crypto.decrypt_message(raw["body"], q["msg_signature"], q["timestamp"], q["nonce"]))
    assert msg.event == "masssendjobfinish" and int(msg.sent_count) == 3 and int(msg.total_count) == 3


def test_cli_simulate_takes_any_dialects_fields(polytag_server: PolytagServer, polytag_app: Any,
                                                polytag_callbacks: Callable[..., CallbackTarget]) -> None:
    """`polytag simulate APP ACTION field=value ...`: values that are JSON (lists, numbers) go as JSON."""
    corp = polytag_app("wecom", members=["zhangsan"], groups=[{"name": "级别", "tags": [{"name": "VIP"}]}])
    cb = polytag_callbacks(corp)
    opts = ["--url", polytag_server.url, "--admin-key", polytag_server.admin_key or ""]
    runner = CliRunner()
    out = runner.invoke(main, ["simulate", corp.name, "add_customer", "userid=zhangsan", "external_userid=wmCli1",
                               "name=张三", *opts])
    assert out.exit_code == 0, out.output
    out = runner.invoke(main, ["simulate", corp.name, "edit_customer", "userid=zhangsan", "external_userid=wmCli1",
                               "add_tag=[]", *opts])
    assert out.exit_code == 0, out.output
    out = runner.invoke(main, ["simulate", corp.name, "shuffle", 'order=["nope"]', *opts])
    assert out.exit_code != 0 and "`order` must list every group" in out.output
    out = runner.invoke(main, ["simulate", corp.name, "add_customer", "userid", *opts])
    assert out.exit_code != 0 and "expected FIELD=VALUE" in out.output and "Traceback" not in out.output
    assert [e["ChangeType"] for e in cb.events()] == ["add_external_contact", "edit_external_contact"]


def test_cli_verify_fails_when_the_server_does(polytag_server: PolytagServer, polytag_wechat_app: PolytagApp) -> None:
    """`polytag callbacks verify` exits 1 when the URL check fails (a script can rely on it)."""
    app = polytag_wechat_app.name
    polytag_server.control.set_callback_config(app, {"url": "http://127.0.0.1:9/nobody", "token": "tok123",
                                                     "mode": "plain"})
    opts = ["--url", polytag_server.url, "--admin-key", polytag_server.admin_key or ""]
    try:
        out = CliRunner().invoke(main, ["callbacks", "verify", app, *opts])
        assert out.exit_code == 1 and json.loads(out.output)["ok"] is False, out.output
        out = CliRunner().invoke(main, ["faults", "rm", "f1", "--all", *opts])
        assert out.exit_code == 2 and "not both" in out.output
    finally:
        polytag_server.control.set_callback_config(app, None)
