"""Members: a tag's members paged by keyset cursor, tagging a subject, and a subject's page
with its tags added and removed."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.conftest import LiveServer
from tests.console.conftest import WX, api

WXAPP = WX["appid"]


def test_tag_a_subject_and_see_it_on_the_subject_page(server: LiveServer, page: Page) -> None:
    page.goto(server.url + f"/console/#/apps/{WXAPP}/tags")
    page.locator("tr[data-tag='vip']").get_by_role("link", name="vip").click()
    expect(page.get_by_text("No members.")).to_be_visible()
    page.get_by_label("Subject to tag").fill("oA2")
    page.get_by_role("button", name="Add", exact=True).click()
    member = page.locator("tr[data-subject='oA2']")
    expect(member).to_be_visible()
    expect(page.locator(".pager-status")).to_have_text("1–1 of 1 members")

    member.get_by_role("link").click()
    chips = page.get_by_label("Tags of this subject").locator("li")
    expect(chips).to_have_count(1)
    expect(chips.first).to_contain_text("vip")
    page.get_by_label("Tag to add").select_option(label="north")
    page.get_by_role("button", name="Add tag").click()
    expect(chips).to_have_count(2)
    with api(server) as http:
        assert {t["name"] for t in http.get(f"/v1/apps/{WXAPP}/subjects/oA2").json()["tags"]} == {"vip", "north"}

    page.get_by_role("button", name="Remove vip").click()
    expect(chips).to_have_count(1)
    expect(chips.first).to_contain_text("north")
    expect(page.get_by_role("heading", name="Tags (1)")).to_be_visible()


def test_unknown_subject_shows_the_problem(server: LiveServer, page: Page) -> None:
    page.goto(server.url + f"/console/#/apps/{WXAPP}/subjects/nobody")
    expect(page.locator(".problem")).to_contain_text("No such subject")
    expect(page.locator(".crumbs")).to_contain_text(WXAPP)  # the page around it still stands


def test_members_are_paged_by_cursor(server: LiveServer, page: Page) -> None:
    people = [f"p{i:03d}" for i in range(57)]
    with api(server) as http:
        got = http.post(f"/v1/apps/{WXAPP}/memberships/add", json={
            "pairs": [{"subject": s, "tag": "north"} for s in people], "create_subjects": True})
        assert got.json()["changed"] == 57
    page.goto(server.url + f"/console/#/apps/{WXAPP}/tags/101")
    rows = page.locator("tbody tr[data-subject]")
    status = page.locator(".pager-status")
    expect(status).to_have_text("1–50 of 57 members")
    expect(rows).to_have_count(50)
    expect(rows.first).to_have_attribute("data-subject", "p000")
    page.get_by_role("button", name="Next →").click()
    expect(status).to_have_text("51–57 of 57 members")
    expect(rows).to_have_count(7)
    expect(rows.last).to_have_attribute("data-subject", "p056")
    expect(page.get_by_role("button", name="Next →")).to_be_disabled()
    page.get_by_role("button", name="← Previous").click()
    expect(status).to_have_text("1–50 of 57 members")

    page.get_by_role("link", name="Subjects", exact=True).first.click()
    expect(page.locator(".pager-status")).to_have_text("1–50 of 60 subjects")
    page.get_by_label("Subject id").fill("p042")
    page.get_by_role("button", name="Open subject").click()
    expect(page.get_by_label("Tags of this subject")).to_contain_text("north")
    expect(page.locator(".facts dd").first).to_contain_text(" UTC")
    assert page.locator(".facts dd").first.inner_text()[:2] in ("19", "20")  # a year, seconds or ms alike
