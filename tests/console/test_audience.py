"""The audience builder: the count live as you type, a bad expression's error with its
position, the members paged, and the export downloaded with the key kept out of every URL."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.conftest import LiveServer
from tests.console.conftest import KEY, SHOTS, WX, Watched, api

WXAPP = WX["appid"]


def tag_some(server: LiveServer, key: str | None = None) -> None:
    pairs = [{"subject": "oA1", "tag": "vip"}, {"subject": "oA2", "tag": "vip"}, {"subject": "oA2", "tag": "north"}]
    with api(server, key) as http:
        assert http.post(f"/v1/apps/{WXAPP}/memberships/add", json={"pairs": pairs}).json()["changed"] == 3


def test_count_updates_as_you_type_and_errors_show_their_position(server: LiveServer, page: Page) -> None:
    tag_some(server)
    page.goto(server.url + f"/console/#/apps/{WXAPP}/audience")
    expr = page.get_by_label("Audience expression")
    count = page.locator("#audience-count")
    expr.press_sequentially("vip")
    expect(count).to_have_text("2")
    expect(page.locator("#count-note")).to_have_text("subjects match")
    expr.press_sequentially(" & !north")
    expect(count).to_have_text("1")
    expect(page.locator("#count-note")).to_have_text("subject matches")

    expr.fill("vip & (north")
    error = page.locator("#expr-error .problem")
    expect(error).to_contain_text("Bad audience expression")
    expect(error).to_contain_text("expected ')'")
    expect(error).to_contain_text("position 12")
    expect(count).to_have_text("–")

    expr.fill("vip & nobody")
    expect(error).to_contain_text("unknown tag at 6: 'nobody'")
    expect(error.locator("mark")).to_have_text("n")
    page.screenshot(path=str(SHOTS / "test_count_updates_as_you_type_and_errors_show_their_position-error.png"))

    expr.fill("")
    page.locator(".palette").get_by_role("button", name="north").click()
    expect(expr).to_have_value("north")
    expect(count).to_have_text("1")
    page.get_by_role("button", name="List members").click()
    expect(page.locator("tbody tr[data-subject]")).to_have_count(1)
    expect(page.locator("tr[data-subject='oA2']")).to_be_visible()


def test_export_downloads_with_the_key_in_a_header(keyed_server: LiveServer, watched: Watched, tmp_path: Path) -> None:
    page = watched.page
    tag_some(keyed_server, KEY)
    page.goto(keyed_server.url + "/console/")
    page.get_by_label("Admin key").fill(KEY)
    page.get_by_role("button", name="Sign in").click()
    page.locator("tr[data-app='wxconsole0000001']").get_by_role("link", name="Audience").click()
    page.get_by_label("Audience expression").fill("vip")
    expect(page.locator("#audience-count")).to_have_text("2")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download export").click()
    download = info.value
    assert download.suggested_filename == f"{WXAPP}-audience.ndjson"
    saved = tmp_path / "export.ndjson"
    download.save_as(saved)
    lines = saved.read_text("utf-8").splitlines()
    assert [line.split('"')[3] for line in lines] == ["oA1", "oA2"]  # {"subject": "oA1", ...}

    page.get_by_label("Export format").select_option("csv")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download export").click()
    assert info.value.suggested_filename.endswith(".csv")
    assert not [u for u in watched.urls if KEY in u]
    expect(page.get_by_text("Exported")).to_have_count(2)
