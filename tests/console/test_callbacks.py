"""Callbacks in the console: the app's configuration shown and refused with the field named,
a delivery in the journal expanded to its request and attempts, the URL check run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from polytag.callbacks.receiver import Receiver
from tests.conftest import LiveServer
from tests.console.conftest import WX, api


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(receive_id=WX["appid"]).start()
    yield r
    r.stop()


def test_a_delivery_expands_and_the_url_check_runs(server: LiveServer, page: Page, receiver: Receiver) -> None:
    with api(server) as http:
        cfg = {"url": receiver.url, "token": receiver.token, "mode": "plain"}
        assert http.put("/_polytag/callbacks/config", params={"app": WX["appid"]}, json=cfg).status_code == 200
        http.post("/_polytag/simulate", json={"app": WX["appid"], "action": "follow", "openid": "oConsole1"})
        assert http.post("/_polytag/callbacks/flush", json={}).json()["settled"]
    page.goto(server.url + f"/console/#/callbacks?app={WX['appid']}")
    row = page.locator("tr[data-delivery='1']")
    expect(row).to_contain_text("subscribe")
    expect(row).to_contain_text("oConsole1")
    expect(row).to_contain_text("delivered")
    row.click()
    expect(page.locator("tr.detail .request-body")).to_contain_text("<FromUserName><![CDATA[oConsole1]]>")
    expect(page.locator("tr.detail .attempt")).to_contain_text("HTTP 200")
    page.get_by_role("button", name="Run URL check").click()
    expect(page.locator("tr[data-delivery='2']")).to_contain_text("url_check")
    expect(page.get_by_label("Callback URL")).to_have_value(receiver.url)


def test_a_bad_configuration_names_the_field(server: LiveServer, page: Page) -> None:
    page.goto(server.url + f"/console/#/callbacks?app={WX['appid']}")
    page.get_by_label("Callback URL").fill("http://127.0.0.1:9/wx")
    page.get_by_label("Callback token").fill("abcdef")
    page.get_by_label("Callback mode").select_option("safe")
    page.get_by_label("EncodingAESKey").fill("short")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".problem")).to_contain_text("`encoding_aes_key` must be 43 characters")


def test_the_mode_choice_is_the_dialects(server: LiveServer, page: Page) -> None:
    """A WeCom corp always encrypts: its form offers `safe` alone (from the record's callback face)."""
    corp = {"dialect": "wecom", "corpid": "wwconsole0000000001", "secret": "console-secret", "members": ["zhangsan"]}
    with api(server) as http:
        assert http.post("/_polytag/seed", json={"apps": [corp]}).status_code == 200
        assert http.get("/_polytag/health").json()["console"]["wecom"]["callback_modes"] == ["safe"]
    page.goto(server.url + "/console/#/callbacks?app=wwconsole0000000001")
    expect(page.get_by_label("Callback mode").locator("option")).to_have_text(["safe"])
    page.goto(server.url + f"/console/#/callbacks?app={WX['appid']}")
    expect(page.get_by_label("Callback mode").locator("option")).to_have_text(["plain", "compat", "safe"])
