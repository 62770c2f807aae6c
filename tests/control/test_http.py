"""Every control endpoint over HTTP (in-process): guard, reset, seed, snapshot, journal, faults,
clock, quotas, and 400s for bad input."""

from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from polytag import dialects
from polytag.testing import usersig
from tests.control.conftest import AUTH, BOT, IM, WX, wx_call, wx_token

P = "/_polytag"


def test_health_is_open_and_the_rest_needs_the_key(ctl: TestClient) -> None:
    health = ctl.get(f"{P}/health").json()
    assert health["status"] == "ok" and health["backend"] == "sqlite"
    assert health["dialects"] == sorted(dialects.discover())
    assert {"juzibot", "tencent_im", "wechat"} <= set(health["dialects"])
    for method, path in [("POST", "/reset"), ("GET", "/requests"), ("GET", "/faults"), ("GET", "/snapshot"),
                         ("POST", "/clock"), ("POST", "/seed"), ("DELETE", "/requests")]:
        resp = ctl.request(method, P + path)
        assert resp.status_code == 401, path
        assert "admin key" in resp.json()["error"]
    assert ctl.get(f"{P}/faults", headers={"Authorization": "Bearer wrong"}).status_code == 401


@pytest.mark.parametrize("path, body", [
    ("/reset", b"{nope"), ("/reset", b"[1]"), ("/reset", b'{"app": 5}'), ("/seed", b"{}x"),
    ("/seed", b'{"apps": [{"no": "dialect"}]}'), ("/seed", b'{"apps": [{"dialect": "nope"}]}'),
    ("/seed", b'{"apps": [{"dialect": "wechat"}]}'), ("/snapshot", b'{"format": "x"}'),
    ("/snapshot", b'{"format": "polytag-snapshot", "version": 99, "apps": []}'),
    ("/snapshot", b'{"format": "polytag-snapshot", "version": 2, "apps": [{"app": {"name": "a"}}]}'),
    ("/faults", b'{"dialect": "wechat"}'), ("/faults", b'{"dialect": "nope", "error": -1}'),
    ("/faults", b'{"dialect": "wechat", "error": 12345}'), ("/faults", b'{"dialect": "wechat", "error": "x"}'),
    ("/faults", b'{"dialect": "wechat", "error": -1, "probability": 2}'),
    ("/faults", b'{"dialect": "wechat", "error": -1, "bogus": 1}'), ("/clock", b"{}"),
    ("/clock", b'{"advance_s": "soon"}'), ("/clock", b'{"set": "yesterday"}'), ("/clock", b'{"real": false}'),
    ("/quotas", b'{"app": "x", "daily": {"token": -1}}'),
])
def test_bad_input_is_a_400_with_a_message(ctl: TestClient, path: str, body: bytes) -> None:
    resp = ctl.post(P + path, content=body, headers={**AUTH, "Content-Type": "application/json"})
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]


def test_unknown_app_and_fault_are_404(ctl: TestClient) -> None:
    assert ctl.post(f"{P}/reset", json={"app": "nobody"}, headers=AUTH).status_code == 404
    assert ctl.delete(f"{P}/faults/f999", headers=AUTH).status_code == 404
    assert ctl.get(f"{P}/snapshot", params={"app": "nobody"}, headers=AUTH).status_code == 404


def test_reset_all_and_one_app(ctl: TestClient) -> None:
    token = wx_token(ctl)
    assert wx_call(ctl, "tags/create", token, {"tag": {"name": "新"}}) == {"tag": {"id": 101, "name": "新"}}
    ctl.post(f"{P}/seed", json={"apps": [{**WX, "appid": "wxextra", "tags": []}]}, headers=AUTH)
    got = ctl.post(f"{P}/reset", json={"app": WX["appid"]}, headers=AUTH).json()
    assert got["apps"] == [WX["appid"]] and got["seconds"] >= 0
    token = wx_token(ctl)  # the old token went with the app's rows
    assert [t["name"] for t in wx_call(ctl, "tags/get", token)["tags"]] == ["星标组", "vip"]
    assert wx_token(ctl, "wxextra")  # another app is untouched by a one-app reset
    got = ctl.post(f"{P}/reset", headers=AUTH).json()
    assert got["reset"] == "all" and sorted(got["apps"]) == sorted([WX["appid"], str(IM["sdkappid"]), BOT["name"]])
    assert "access_token" not in ctl.get("/cgi-bin/token", params={
        "grant_type": "client_credential", "appid": "wxextra", "secret": WX["secret"]}).json()


def test_seed_at_run_time_adds_and_updates(ctl: TestClient) -> None:
    doc = {"apps": [{"dialect": "wechat", "appid": "wxnew", "secret": "a", "followers": ["o1"]}]}
    assert ctl.post(f"{P}/seed", json=doc, headers=AUTH).json()["apps"] == [{"name": "wxnew", "dialect": "wechat"}]
    doc["apps"][0]["secret"] = "b"
    ctl.post(f"{P}/seed", json=doc, headers=AUTH)
    assert wx_token(ctl, "wxnew", "b")


def test_snapshot_round_trip_and_version_1(ctl: TestClient) -> None:
    token = wx_token(ctl)
    wx_call(ctl, "tags/members/batchtagging", token, {"openid_list": ["oF1", "oF2"], "tagid": 100})
    snap = ctl.get(f"{P}/snapshot", params={"app": WX["appid"]}, headers=AUTH).json()
    assert snap["format"] == "polytag-snapshot" and snap["version"] == 2 and snap["scope"] == "app"
    assert [a["app"]["name"] for a in snap["apps"]] == [WX["appid"]]
    wx_call(ctl, "tags/create", token, {"tag": {"name": "later"}})
    assert ctl.post(f"{P}/snapshot", json=snap, headers=AUTH).json()["loaded"] == [WX["appid"]]
    token = wx_token(ctl)
    assert wx_call(ctl, "tags/get", token)["tags"] == [
        {"id": 2, "name": "星标组", "count": 0}, {"id": 100, "name": "vip", "count": 2}]
    assert wx_call(ctl, "tags/getidlist", token, {"openid": "oF1"}) == {"tagid_list": [100]}
    # the same state in the version 1 layout (rows as objects) still loads
    v1 = {**snap, "version": 1, "apps": [
        {"app": a["app"], "tables": {t: [dict(zip(d["columns"], r, strict=True)) for r in d["rows"]]
                                     for t, d in a["tables"].items()}} for a in snap["apps"]]}
    wx_call(ctl, "tags/create", token, {"tag": {"name": "later"}})
    assert ctl.post(f"{P}/snapshot", json=v1, headers=AUTH).json()["loaded"] == [WX["appid"]]
    token = wx_token(ctl)
    assert [t["name"] for t in wx_call(ctl, "tags/get", token)["tags"]] == ["星标组", "vip"]


def test_whole_state_snapshot_drops_apps_made_after_it(ctl: TestClient) -> None:
    snap = ctl.get(f"{P}/snapshot", headers=AUTH).json()
    assert snap["scope"] == "all" and len(snap["apps"]) == 3
    ctl.post(f"{P}/seed", json={"apps": [{"dialect": "juzibot", "name": "late", "token": "t"}]}, headers=AUTH)
    ctl.post(f"{P}/snapshot", json=snap, headers=AUTH)
    names = [a["app"]["name"] for a in ctl.get(f"{P}/snapshot", headers=AUTH).json()["apps"]]
    assert sorted(names) == sorted([WX["appid"], str(IM["sdkappid"]), BOT["name"]])


def test_journal_records_filters_masks_and_clears(ctl: TestClient) -> None:
    token = wx_token(ctl)
    wx_call(ctl, "tags/create", token, {"tag": {"name": "j"}})
    ctl.get("/api/v1/tag/list", params={"token": BOT["token"]})
    sig = usersig(IM["sdkappid"], IM["key"], "administrator")
    ctl.post("/v4/all_member_push/im_get_tag", params={
        "sdkappid": str(IM["sdkappid"]), "identifier": "administrator", "usersig": sig, "random": "1",
        "contenttype": "json"}, json={"To_Account": ["u1"]})
    every = ctl.get(f"{P}/requests", headers=AUTH).json()
    assert every["size"] == 1000 and every["count"] == 4
    first = every["requests"][0]
    assert first["path"] == "/cgi-bin/token" and first["app"] == WX["appid"] and first["dialect"] == "wechat"
    assert first["query"]["secret"] == "***" and first["response_body"]["access_token"]
    create = ctl.get(f"{P}/requests", params={"path": "tags/create"}, headers=AUTH).json()["requests"]
    assert [e["request_body"] for e in create] == [{"tag": {"name": "j"}}]
    assert create[0]["query"] == {"access_token": "***"} and create[0]["status"] == 200
    assert create[0]["response_body"] == {"tag": {"id": 101, "name": "j"}} and create[0]["latency_ms"] >= 0
    im = ctl.get(f"{P}/requests", params={"app": str(IM["sdkappid"])}, headers=AUTH).json()["requests"]
    assert [e["dialect"] for e in im] == ["tencent_im"] and im[0]["query"]["usersig"] == "***"
    assert ctl.get(f"{P}/requests", params={"dialect": "juzibot"}, headers=AUTH).json()["count"] == 1
    assert ctl.get(f"{P}/requests", params={"path": "/cgi-bin/*"}, headers=AUTH).json()["count"] == 2
    last = ctl.get(f"{P}/requests", params={"limit": 1}, headers=AUTH).json()["requests"]
    assert last[0]["dialect"] == "tencent_im"
    since = ctl.get(f"{P}/requests", params={"since": create[0]["time"]}, headers=AUTH).json()
    assert since["count"] == 3
    assert ctl.get(f"{P}/requests", params={"after": create[0]["id"]}, headers=AUTH).json()["count"] == 2
    assert ctl.delete(f"{P}/requests", headers=AUTH).json()["cleared"] == 4
    assert ctl.get(f"{P}/requests", headers=AUTH).json()["count"] == 0


def test_journal_is_a_ring_buffer(ctl: TestClient) -> None:
    assert ctl.put(f"{P}/requests", json={"size": 3}, headers=AUTH).json()["size"] == 3
    token = wx_token(ctl)
    for i in range(5):
        wx_call(ctl, "tags/create", token, {"tag": {"name": f"r{i}"}})
    got = ctl.get(f"{P}/requests", headers=AUTH).json()
    assert [e["request_body"]["tag"]["name"] for e in got["requests"]] == ["r2", "r3", "r4"]


def test_faults_answer_in_each_dialects_envelope(ctl: TestClient) -> None:
    ids = [ctl.post(f"{P}/faults", json=doc, headers=AUTH).json()["id"] for doc in [
        {"dialect": "wechat", "path": "tags/create", "error": 45009, "times": 1},
        {"dialect": "juzibot", "error": 50000},
        {"dialect": "tencent_im", "path": "all_member_push/*", "error": 91000, "app": str(IM["sdkappid"])},
    ]]
    assert [f["id"] for f in ctl.get(f"{P}/faults", headers=AUTH).json()["faults"]] == ids
    token = wx_token(ctl)  # other paths are not touched
    got = wx_call(ctl, "tags/create", token, {"tag": {"name": "f"}})
    assert got["errcode"] == 45009 and got["errmsg"].startswith("reach max api daily quota limit rid: ")
    assert wx_call(ctl, "tags/create", token, {"tag": {"name": "f"}}) == {"tag": {"id": 101, "name": "f"}}
    assert ctl.get("/api/v1/tag/list", params={"token": "x"}).json() == {"errcode": 50000, "errmsg": "system error"}
    sig = usersig(IM["sdkappid"], IM["key"], "administrator")
    resp = ctl.post("/v4/all_member_push/im_get_tag", params={
        "sdkappid": str(IM["sdkappid"]), "identifier": "administrator", "usersig": sig, "random": "1",
        "contenttype": "json"}, json={"To_Account": ["u1"]})
    assert resp.content == (b'{"ActionStatus":"FAIL","ErrorInfo":"Internal service error. Please try again.",'
                            b'"ErrorCode":91000}')
    listed = {f["id"]: f for f in ctl.get(f"{P}/faults", headers=AUTH).json()["faults"]}
    assert listed[ids[0]]["times"] == 0 and listed[ids[0]]["fired"] == 1
    assert ctl.delete(f"{P}/faults/{ids[1]}", headers=AUTH).json() == {"ok": True}
    assert ctl.get("/api/v1/tag/list", params={"token": "x"}).json()["errcode"] == 40014
    ctl.delete(f"{P}/faults", headers=AUTH)
    assert ctl.get(f"{P}/faults", headers=AUTH).json()["faults"] == []


def _pattern(ctl: TestClient, seed: int) -> list[int]:
    ctl.delete(f"{P}/faults", headers=AUTH)
    ctl.post(f"{P}/faults", json={"dialect": "juzibot", "error": 50000, "probability": 0.5, "seed": seed},
             headers=AUTH)
    return [ctl.get("/api/v1/tag/list", params={"token": BOT["token"]}).json()["errcode"] for _ in range(24)]


def test_a_seeded_fault_fails_the_same_calls_every_time(ctl: TestClient) -> None:
    first = _pattern(ctl, 7)
    assert first == _pattern(ctl, 7) and set(first) == {0, 50000}
    assert first != _pattern(ctl, 8)


def test_fault_latency(ctl: TestClient) -> None:
    ctl.post(f"{P}/faults", json={"dialect": "juzibot", "latency_ms": 30, "times": 1}, headers=AUTH)
    ctl.get("/api/v1/tag/list", params={"token": BOT["token"]})
    entry = ctl.get(f"{P}/requests", headers=AUTH).json()["requests"][-1]
    assert entry["response_body"]["errcode"] == 0 and entry["latency_ms"] >= 30


def test_clock_moves_token_expiry(ctl: TestClient) -> None:
    token = wx_token(ctl)
    assert "tags" in wx_call(ctl, "tags/get", token)
    state = ctl.post(f"{P}/clock", json={"advance_s": 7200}, headers=AUTH).json()
    assert state["offset_s"] == 7200 and not state["real"]
    assert wx_call(ctl, "tags/get", token)["errcode"] == 42001
    assert ctl.post(f"{P}/clock", json={"real": True}, headers=AUTH).json()["real"]
    assert "tags" in wx_call(ctl, "tags/get", token)
    state = ctl.post(f"{P}/clock", json={"set": "2030-01-01T00:00:00Z"}, headers=AUTH).json()
    assert state["iso"].startswith("2030-01-01T00:00:00")
    assert ctl.get(f"{P}/clock", headers=AUTH).json()["now"] >= state["now"]


def test_clock_moves_usersig_expiry(ctl: TestClient) -> None:
    sig = usersig(IM["sdkappid"], IM["key"], "administrator", expire=60)
    query = {"sdkappid": str(IM["sdkappid"]), "identifier": "administrator", "usersig": sig, "random": "1",
             "contenttype": "json"}

    def code() -> int:
        got = ctl.post("/v4/all_member_push/im_get_tag", params=query, json={"To_Account": ["u1"]})
        return int(got.json()["ErrorCode"])

    assert code() == 0
    ctl.post(f"{P}/clock", json={"advance_s": 61}, headers=AUTH)
    assert code() == 70001


def test_wechat_daily_quota_is_per_app_api_and_day(ctl: TestClient) -> None:
    token = wx_token(ctl)
    assert ctl.post(f"{P}/quotas", json={"app": WX["appid"], "daily": {"tags/get": 2}}, headers=AUTH).json()
    assert "tags" in wx_call(ctl, "tags/get", token) and "tags" in wx_call(ctl, "tags/get", token)
    assert wx_call(ctl, "tags/get", token)["errcode"] == 45009
    assert "tagid_list" in wx_call(ctl, "tags/getidlist", token, {"openid": "oF1"})  # another API
    usage = ctl.get(f"{P}/quotas", params={"app": WX["appid"]}, headers=AUTH).json()["usage"]
    assert usage["tags/get"] == {"used": 2, "quota": 2} and usage["token"]["quota"] == 2000
    ctl.post(f"{P}/clock", json={"advance_s": 86400}, headers=AUTH)  # the next day
    token = wx_token(ctl)
    assert "tags" in wx_call(ctl, "tags/get", token)


def test_daily_quota_from_the_seed_entry(ctl: TestClient) -> None:
    app = {"dialect": "wechat", "appid": "wxquota", "secret": "s", "limits": {"daily_quotas": {"token": 1}}}
    ctl.post(f"{P}/seed", json={"apps": [app]}, headers=AUTH)
    assert wx_token(ctl, "wxquota", "s")
    got = ctl.get("/cgi-bin/token", params={"grant_type": "client_credential", "appid": "wxquota", "secret": "s"})
    assert got.json()["errcode"] == 45009


def test_daily_quotas_count_for_any_dialect_whose_limits_declare_them(ctl: TestClient) -> None:
    """The control plane reads quotas from the app's typed limits and names no vendor."""
    bot = {**BOT, "name": "bot-quota", "token": "bot-quota-token", "limits": {"daily_quotas": {"tag/list": 1}}}
    ctl.post(f"{P}/seed", json={"apps": [bot]}, headers=AUTH)
    answers = [ctl.get("/api/v1/tag/list", params={"token": bot["token"]}).json()["errcode"] for _ in range(2)]
    assert answers[0] == 0 and answers[1] != 0
    usage = ctl.get(f"{P}/quotas", params={"app": "bot-quota"}, headers=AUTH).json()["usage"]
    assert usage["tag/list"] == {"used": 1, "quota": 1}
    other = ctl.get("/api/v1/tag/list", params={"token": BOT["token"]}).json()  # its preset has none
    assert [other["errcode"], ctl.get("/api/v1/tag/list", params={"token": BOT["token"]}).json()["errcode"]] == [0, 0]


def test_snapshot_is_json_with_bytes_as_base64(ctl: TestClient) -> None:
    token = wx_token(ctl)
    wx_call(ctl, "tags/members/batchtagging", token, {"openid_list": ["oF1"], "tagid": 100})
    text = ctl.get(f"{P}/snapshot", params={"app": WX["appid"]}, headers=AUTH).text
    assert '"$b64"' in text and json.loads(text)["apps"][0]["tables"]["subjects"]["rows"]


def _wx_state(ctl: TestClient) -> dict[str, object]:
    token = wx_token(ctl)
    tags = wx_call(ctl, "tags/get", token)["tags"]
    return {
        "tags": tags,
        "members": {t["id"]: wx_call(ctl, "user/tag/get", token, {"tagid": t["id"]}) for t in tags},
        "followers": wx_call(ctl, "user/get", token),
        "remarks": [ctl.get("/cgi-bin/user/info", params={"access_token": token, "openid": o}).json()["remark"]
                    for o in WX["followers"]],
        "blacklist": wx_call(ctl, "tags/members/getblacklist", token, {}),
    }


def test_repeated_resets_restore_the_seeded_state_exactly(ctl: TestClient) -> None:
    """The second and later resets of an app restore it in place (same rows, caches reloaded)."""
    before = _wx_state(ctl)
    for round_ in range(3):
        token = wx_token(ctl)
        new = wx_call(ctl, "tags/create", token, {"tag": {"name": f"temp{round_}"}})["tag"]["id"]
        assert wx_call(ctl, "tags/members/batchtagging", token, {"openid_list": ["oF1", "oF2"], "tagid": new})["errcode"] == 0
        assert wx_call(ctl, "tags/members/batchtagging", token, {"openid_list": ["oF3"], "tagid": 100})["errcode"] == 0
        assert wx_call(ctl, "user/info/updateremark", token, {"openid": "oF2", "remark": "changed"})["errcode"] == 0
        assert wx_call(ctl, "tags/members/batchblacklist", token, {"openid_list": ["oF1"]})["errcode"] == 0
        assert _wx_state(ctl) != before
        assert ctl.post(f"{P}/reset", json={"app": WX["appid"]}, headers=AUTH).status_code == 200
        assert _wx_state(ctl) == before, f"round {round_}"
    # and the app still takes writes after an in-place reset
    token = wx_token(ctl)
    assert wx_call(ctl, "tags/members/batchtagging", token, {"openid_list": ["oF1"], "tagid": 100})["errcode"] == 0
    assert wx_call(ctl, "tags/getidlist", token, {"openid": "oF1"}) == {"tagid_list": [100]}


def test_an_in_place_reset_drops_subjects_added_since(ctl: TestClient) -> None:
    """IM accounts imported after the seed are gone after a (repeated) reset, and can be imported again."""
    sig = usersig(IM["sdkappid"], IM["key"], IM["admin"])
    q = {"sdkappid": IM["sdkappid"], "identifier": IM["admin"], "usersig": sig, "random": 1, "contenttype": "json"}
    check = {"CheckItem": [{"UserID": "u1"}, {"UserID": "late"}]}
    for _ in range(2):
        assert ctl.post("/v4/im_open_login_svc/account_import", params=q, json={"UserID": "late"}).json()["ErrorCode"] == 0
        status = [r["AccountStatus"] for r in
                  ctl.post("/v4/im_open_login_svc/account_check", params=q, json=check).json()["ResultItem"]]
        assert status == ["Imported", "Imported"]
        assert ctl.post(f"{P}/reset", json={"app": str(IM["sdkappid"])}, headers=AUTH).status_code == 200
        status = [r["AccountStatus"] for r in
                  ctl.post("/v4/im_open_login_svc/account_check", params=q, json=check).json()["ResultItem"]]
        assert status == ["Imported", "NotImported"]
