"""`/_polytag/sends`: WeChat mass sends and IM push tasks in one shape, with who each reached; a
reset forgets them, a snapshot carries them, the CLI and the pytest fixture read them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from starlette.testclient import TestClient

from polytag.cli import main
from polytag.testing import PolytagApp, SendLog, usersig
from tests.control.conftest import AUTH, IM, WX, wx_call, wx_token

P = "/_polytag"
TXT = {"msgtype": "text", "text": {"content": "hello"}}
KEYS = {"id", "app", "dialect", "kind", "target", "msgtype", "message", "options", "created_at", "status",
        "dedupe_key", "audience_size", "audience"}


def im_push(c: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    sig = usersig(IM["sdkappid"], IM["key"], "administrator")
    got = c.post("/v4/all_member_push/im_push", params={
        "sdkappid": str(IM["sdkappid"]), "identifier": "administrator", "usersig": sig, "random": "7",
        "contenttype": "json"}, json=body)
    out: dict[str, Any] = got.json()
    return out


def sends_of(c: TestClient, app: str | int | None = None) -> list[dict[str, Any]]:
    got = c.get(f"{P}/sends", params={} if app is None else {"app": str(app)}, headers=AUTH)
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["count"] == len(body["sends"])
    return list(body["sends"])


def test_wechat_sends_and_im_pushes_in_one_shape(ctl: TestClient) -> None:
    token = wx_token(ctl)
    wx_call(ctl, "tags/members/batchtagging", token, {"openid_list": ["oF1", "oF3"], "tagid": 100})
    wx_call(ctl, "tags/members/batchblacklist", token, {"openid_list": ["oF3"]})
    sent = wx_call(ctl, "message/mass/sendall", token, {"filter": {"is_to_all": False, "tag_id": 100}, **TXT,
                                                        "clientmsgid": "c-1"})
    assert sent["errcode"] == 0
    pushed = im_push(ctl, {"MsgRandom": 42, "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "x"}}]})
    assert pushed["ActionStatus"] == "OK", pushed

    (wx,) = sends_of(ctl, WX["appid"])
    assert set(wx) == KEYS
    assert (wx["id"], wx["kind"], wx["target"], wx["msgtype"]) == (str(sent["msg_id"]), "tag", "100", "text")
    assert (wx["audience"], wx["audience_size"], wx["dedupe_key"]) == (["oF1"], 1, "c-1")
    assert wx["message"] == {"content": "hello"} and wx["options"] == {"send_ignore_reprint": 0}
    (im,) = sends_of(ctl, IM["sdkappid"])
    assert set(im) == KEYS
    assert (im["id"], im["kind"], im["audience"], im["dedupe_key"]) == (pushed["TaskId"], "all", ["u1", "u2"], "42")
    assert {s["id"] for s in sends_of(ctl)} == {wx["id"], im["id"]}


def test_unknown_app_and_admin_key(ctl: TestClient) -> None:
    assert ctl.get(f"{P}/sends", params={"app": "nobody"}, headers=AUTH).status_code == 404
    assert ctl.get(f"{P}/sends?app=a%00b", headers=AUTH).status_code == 404
    assert ctl.get(f"{P}/sends").status_code == 401


def test_reset_forgets_sends_and_snapshots_carry_them(ctl: TestClient) -> None:
    token = wx_token(ctl)
    assert wx_call(ctl, "message/mass/sendall", token, {"filter": {"is_to_all": True}, **TXT})["errcode"] == 0
    assert wx_call(ctl, "message/mass/speed/set", token, {"speed": 3})["errcode"] == 0
    snap = ctl.get(f"{P}/snapshot", params={"app": WX["appid"]}, headers=AUTH).json()
    assert ctl.post(f"{P}/reset", json={"app": WX["appid"]}, headers=AUTH).status_code == 200
    assert sends_of(ctl, WX["appid"]) == []
    token = wx_token(ctl)
    assert wx_call(ctl, "message/mass/speed/get", token)["speed"] == 0
    assert ctl.post(f"{P}/snapshot", json=snap, headers=AUTH).status_code == 200
    (back,) = sends_of(ctl, WX["appid"])
    assert back["audience"] == ["oF1", "oF2", "oF3"] and back["kind"] == "all"
    token = wx_token(ctl)
    assert wx_call(ctl, "message/mass/speed/get", token) == {"speed": 3, "realspeed": 30}
    assert wx_call(ctl, "message/mass/get", token, {"msg_id": int(back["id"])})["msg_status"] == "SEND_SUCCESS"
    assert ctl.post(f"{P}/reset", json={}, headers=AUTH).status_code == 200
    assert sends_of(ctl) == []


def test_cli_lists_an_apps_sends(ctl: TestClient, tmp_path: Path) -> None:
    token = wx_token(ctl)
    sent = wx_call(ctl, "message/mass/send", token, {"touser": ["oF2", "oF3", "oNobody"], **TXT})
    db = f"sqlite:///{tmp_path / 'polytag.db'}"
    runner = CliRunner()
    table = runner.invoke(main, ["sends", "--app", WX["appid"], "--db", db])
    assert table.exit_code == 0, table.output
    assert str(sent["msg_id"]) in table.output and "list" in table.output
    lines = runner.invoke(main, ["sends", "--app", WX["appid"], "--db", db, "--json"]).output.splitlines()
    assert [json.loads(line)["audience"] for line in lines] == [["oF2", "oF3"]]
    missing = runner.invoke(main, ["sends", "--app", "nobody", "--db", db])
    assert missing.exit_code != 0 and "no app 'nobody'" in missing.output


def test_the_pytest_fixture(polytag_wechat_app: PolytagApp, polytag_wechat_client: Any,
                            polytag_sends: SendLog) -> None:
    followers = polytag_wechat_app.entry["followers"]
    tag = polytag_wechat_client.tag.create("buyers")
    polytag_wechat_client.tag.tag_user(tag["id"], followers[:2])
    got = polytag_wechat_client.message.send_mass_text(tag["id"], "sale!")
    sent = polytag_sends.wait_for(lambda s: s["id"] == str(got["msg_id"]))
    assert sent["audience"] == followers[:2]
    assert polytag_sends.for_app(polytag_wechat_app) == [sent] == polytag_sends.for_app()
    assert polytag_sends.last(polytag_wechat_app.name) == sent
