"""Signing in (admin key kept in sessionStorage, never in a URL) and the apps list."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.conftest import LiveServer
from tests.console.conftest import KEY, SHOTS, Watched


def test_sign_in_wrong_key_then_right_key(keyed_server: LiveServer, watched: Watched) -> None:
    page = watched.page
    page.goto(keyed_server.url + "/console")
    expect(page.get_by_role("heading", name="polytag console")).to_be_visible()
    page.get_by_label("Admin key").fill("not-the-key")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Wrong admin key")
    expect(page.locator("#shell")).to_be_hidden()
    page.screenshot(path=str(SHOTS / "test_sign_in_wrong_key_then_right_key-wrong.png"))

    page.get_by_label("Admin key").fill(KEY)
    page.get_by_role("button", name="Sign in").click()
    rows = page.locator("tbody tr[data-app]")
    expect(rows).to_have_count(2)
    expect(page.locator("tr[data-app='acme-scrm']")).to_contain_text("juzibot")
    expect(page.locator("tr[data-app='wxconsole0000001']")).to_contain_text("wechat")
    assert page.evaluate("sessionStorage.getItem('polytag.adminKey')") == KEY
    assert page.evaluate("localStorage.length") == 0

    page.reload()  # the key stays for the tab's session
    expect(rows).to_have_count(2)
    assert not [u for u in watched.urls if KEY in u or "not-the-key" in u]


def test_sign_out_asks_for_the_key_again(keyed_server: LiveServer, page: Page) -> None:
    page.goto(keyed_server.url + "/console/")
    page.get_by_label("Admin key").fill(KEY)
    page.keyboard.press("Enter")
    expect(page.get_by_text("Signed in with the admin key")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Admin key")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('polytag.adminKey')") is None


def test_no_key_on_loopback_opens_the_apps_and_searches_them(server: LiveServer, page: Page) -> None:
    page.goto(server.url + "/console/")
    expect(page.get_by_text("Local access (no admin key)")).to_be_visible()
    rows = page.locator("tbody tr[data-app]")
    expect(rows).to_have_count(2)
    expect(page.locator("tr[data-app='wxconsole0000001'] td").nth(2)).to_have_text("3")  # subjects
    expect(page.locator("tr[data-app='wxconsole0000001'] td").nth(3)).to_have_text("3")  # 星标组 + 2
    page.get_by_label("Search apps").fill("acme")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("acme-scrm")
    page.get_by_label("Search apps").fill("zzz")
    expect(page.locator("tbody tr.empty")).to_contain_text("No app matches")
