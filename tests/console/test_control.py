"""The control plane in the console: a vendor call found in the journal and expanded to its
bodies, and faults listed, added and removed."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.conftest import LiveServer
from tests.console.conftest import WX, api, wechat_token


def test_a_wechat_call_in_the_journal_expands_to_its_bodies(server: LiveServer, page: Page) -> None:
    with api(server) as http:
        token = wechat_token(http)
        got = http.post("/cgi-bin/tags/create", params={"access_token": token},
                        json={"tag": {"name": "from-httpx"}}).json()
        assert got == {"tag": {"id": 102, "name": "from-httpx"}}
        http.post("/api/v1/tag/list", params={"token": "wrong-token"}, json={})  # another dialect, refused
    page.goto(server.url + "/console/#/journal")
    row = page.locator("tr[data-path='/cgi-bin/tags/create']")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(WX["appid"])
    expect(row).to_contain_text("wechat")
    row.click()
    detail = page.locator("tr.detail")
    expect(detail.locator(".request-body")).to_contain_text('"name": "from-httpx"')
    expect(detail.locator(".response-body")).to_contain_text('"id": 102')
    expect(detail).to_contain_text("access_token")  # the query, token masked
    assert token not in detail.inner_text()

    page.get_by_label("Dialect").select_option("juzibot")
    expect(page.locator("tbody tr.expandable")).to_have_count(1)
    expect(page.locator("tbody tr.expandable")).to_contain_text("/api/v1/tag/list")
    page.get_by_label("Dialect").select_option("")
    page.get_by_label("Path filter").fill("tags/*")
    page.get_by_label("Path filter").press("Enter")
    expect(page.locator("tbody tr.expandable")).to_have_count(1)
    page.locator("tbody tr.expandable").click()
    expect(page.locator("tr.detail .response-body")).to_be_visible()


def test_faults_are_listed_added_and_removed(server: LiveServer, page: Page) -> None:
    with api(server) as http:
        got = http.post("/_polytag/faults", json={"dialect": "wechat", "path": "tags/create", "error": 45157})
        assert got.status_code == 201, got.text
    page.goto(server.url + "/console/#/faults")
    first = page.locator("tr[data-fault='f1']")
    expect(first).to_contain_text("45157")
    expect(first).to_contain_text("tags/create")

    page.get_by_label("Fault dialect").select_option("juzibot")
    page.get_by_role("button", name="Add fault").click()  # neither error nor latency: refused
    expect(page.locator(".problem")).to_contain_text("a fault needs `error` and/or `latency_ms`")
    page.get_by_label("Fault latency ms").fill("5")
    page.get_by_label("Fault times").fill("2")
    page.get_by_role("button", name="Add fault").click()
    rows = page.locator("tbody tr[data-fault]")
    expect(rows).to_have_count(2)
    expect(rows.last).to_contain_text("5 ms")
    expect(rows.last).to_contain_text("juzibot")
    expect(page.locator(".problem")).to_have_count(0)

    first.get_by_role("button", name="Remove fault f1").click()
    expect(page.locator("tr[data-fault='f1']")).to_have_count(0)
    with api(server) as http:
        assert [(f["dialect"], f["times"]) for f in http.get("/_polytag/faults").json()["faults"]] == [("juzibot", 2)]


def test_sends_list_who_each_send_reached(server: LiveServer, page: Page) -> None:
    with api(server) as http:
        token = wechat_token(http)
        http.post("/cgi-bin/tags/members/batchtagging", params={"access_token": token},
                  json={"openid_list": ["oA1", "oA3"], "tagid": 100})
        sent = http.post("/cgi-bin/message/mass/sendall", params={"access_token": token},
                         json={"filter": {"is_to_all": False, "tag_id": 100}, "msgtype": "text",
                               "text": {"content": "sale"}}).json()
        assert sent["errcode"] == 0, sent
    page.goto(server.url + "/console/#/sends")
    row = page.locator(f"tr[data-send='{sent['msg_id']}']")
    expect(row).to_contain_text(WX["appid"])
    expect(row).to_contain_text("tag 100")
    expect(row).to_contain_text("text")
    row.click()
    expect(page.locator("tr.detail .audience")).to_have_text("oA1\noA3")
    page.get_by_label("Sends app").select_option("acme-scrm")
    expect(page.locator("tbody tr.empty")).to_contain_text("Nothing sent yet")
