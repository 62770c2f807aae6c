"""The journal keeps at most MAX_BODY bytes of each answer, so its memory stays bounded."""

from __future__ import annotations

from starlette.testclient import TestClient

from polytag.control.journal import MAX_BODY
from tests.control.conftest import AUTH, wx_call, wx_token

P = "/_polytag"
BIG = {"dialect": "wechat", "appid": "wxjournalbig0001", "secret": "big-secret",
       "followers": {"generate": 5000}}


def test_a_large_answer_is_kept_cut_and_says_so(ctl: TestClient) -> None:
    assert ctl.post(f"{P}/seed", json={"apps": [BIG]}, headers=AUTH).status_code == 200
    token = wx_token(ctl, BIG["appid"], BIG["secret"])
    page = ctl.get("/cgi-bin/user/get", params={"access_token": token}).json()
    assert page["count"] == 5000  # ~150 KB of openids on the wire
    wx_call(ctl, "tags/create", token, {"tag": {"name": "small"}})
    entries = ctl.get(f"{P}/requests", params={"app": BIG["appid"]}, headers=AUTH).json()["requests"]
    big = next(e for e in entries if e["path"] == "/cgi-bin/user/get")
    small = next(e for e in entries if e["path"] == "/cgi-bin/tags/create")
    assert big["response_truncated"] is True and isinstance(big["response_body"], str)
    assert len(big["response_body"].encode()) <= MAX_BODY and big["response_body"].startswith('{"total":5000')
    assert small["response_truncated"] is False and small["response_body"]["tag"]["name"] == "small"
