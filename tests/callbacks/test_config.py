"""Callback configuration: the control plane (GET/PUT/DELETE), seed files, and 400s naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from polytag import dialects, seed
from polytag.app import create_app
from polytag.config import Settings
from polytag.core.service import Service
from tests.callbacks.conftest import APPID
from tests.conftest import IN_PROCESS

KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
GOOD = {"url": "http://127.0.0.1:9/wx", "token": "polytag1", "encoding_aes_key": KEY, "mode": "safe"}
CONFIG = "/_polytag/callbacks/config"


def test_put_get_delete(wechat: TestClient) -> None:
    assert wechat.get(CONFIG, params={"app": APPID}).json() == {"app": APPID, "callback": None}
    assert wechat.put(CONFIG, params={"app": APPID}, json=GOOD).json() == {"app": APPID, "callback": GOOD}
    assert wechat.get(CONFIG, params={"app": APPID}).json()["callback"] == GOOD
    # the app's credentials are untouched: its token endpoint still answers
    token = wechat.get("/cgi-bin/token", params={"grant_type": "client_credential", "appid": APPID,
                                                 "secret": "cb-secret-1"}).json()
    assert "access_token" in token
    assert wechat.delete(CONFIG, params={"app": APPID}).json() == {"ok": True}
    assert wechat.get(CONFIG, params={"app": APPID}).json()["callback"] is None


def test_plain_mode_needs_no_key_and_mode_defaults_to_plain(wechat: TestClient) -> None:
    doc = {"url": "http://localhost:9/wx", "token": "abc"}
    got = wechat.put(CONFIG, params={"app": APPID}, json=doc).json()["callback"]
    assert got == {**doc, "encoding_aes_key": "", "mode": "plain"}


@pytest.mark.parametrize(("change", "field"), [
    ({"encoding_aes_key": KEY[:-1]}, "`encoding_aes_key` must be 43 characters"),
    ({"encoding_aes_key": KEY[:-1] + "!"}, "`encoding_aes_key` must be base64"),
    ({"encoding_aes_key": None}, "`encoding_aes_key` is required"),
    ({"mode": "secure"}, "`mode` must be one of plain, compat, safe"),
    ({"mode": 1}, "`mode` must be a string"),
    ({"url": "ftp://127.0.0.1/x"}, "`url` must be an absolute http"),
    ({"url": "http://127.0.0.1:99999/x"}, "`url` is not a URL"),
    ({"url": "/relative"}, "`url` must be an absolute"),
    ({"url": None}, "`url` is required"),
    ({"token": "ab"}, "`token` must be 3 to 32 letters or digits"),
    ({"token": "a-b-c"}, "`token` must be 3 to 32"),
    ({"token": "a\x00b"}, "`token` must be a string"),
    ({"extra": 1}, "`extra` is not a field"),
])
def test_bad_config_is_400_naming_the_field(wechat: TestClient, change: dict[str, Any], field: str) -> None:
    doc = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    resp = wechat.put(CONFIG, params={"app": APPID}, json=doc)
    assert resp.status_code == 400 and field in resp.json()["error"], resp.text


@pytest.mark.parametrize("body", [b"[]", b"null", b"{", b'"x"'])
def test_bad_bodies_are_400(wechat: TestClient, body: bytes) -> None:
    resp = wechat.put(CONFIG, params={"app": APPID}, content=body, headers={"content-type": "application/json"})
    assert resp.status_code == 400


def test_unknown_app_is_404(wechat: TestClient) -> None:
    assert wechat.get(CONFIG, params={"app": "wxnope"}).status_code == 404
    assert wechat.get(CONFIG).status_code == 400


def test_seed_file_callback(wechat: TestClient) -> None:
    resp = wechat.post("/_polytag/seed", json={"apps": [
        {"dialect": "wechat", "appid": "wxseeded", "secret": "s", "callback": GOOD, "original_id": "gh_abc"}]})
    assert resp.status_code == 200, resp.text
    assert wechat.get(CONFIG, params={"app": "wxseeded"}).json()["callback"] == GOOD
    resp = wechat.post("/_polytag/seed", json={"apps": [
        {"dialect": "wechat", "appid": "wxbad", "secret": "s", "callback": {**GOOD, "mode": "x"}}]})
    assert resp.status_code == 400 and "callback.mode" in resp.json()["error"]


def test_the_operator_opts_in_to_other_hosts(service: Service) -> None:
    seed.apply(service, {"apps": [{"dialect": "wechat", "appid": APPID, "secret": "s"}]}, dialects.discover())
    far = {**GOOD, "url": "https://hooks.example.com/wx"}
    settings = Settings(db=service.store.url, callback_hosts=("*.example.com",), **IN_PROCESS)
    with TestClient(create_app(settings, service, close_store=False)) as client:
        assert client.put(CONFIG, params={"app": APPID}, json=far).status_code == 200
        other = {**GOOD, "url": "https://hooks.example.org/wx"}
        assert client.put(CONFIG, params={"app": APPID}, json=other).status_code == 400


@pytest.mark.parametrize("name", ["\ud800", "a\x00b"])
def test_an_app_name_no_store_can_hold_is_400(wechat: TestClient, name: str) -> None:
    import json

    body = json.dumps({"app": name}).encode()
    for path in ("/_polytag/callbacks/verify", "/_polytag/simulate"):
        resp = wechat.post(path, content=body, headers={"content-type": "application/json"})
        assert resp.status_code == 400 and "`app`" in resp.json()["error"]
    assert wechat.get(CONFIG + "?app=%ED%A0%80%00").status_code in (400, 404)
