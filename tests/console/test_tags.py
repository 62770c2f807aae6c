"""Tags of an app: open it, create / rename / reorder / delete tags and groups, the API's
problem shown in the page when a rule is broken, and the chart of the largest tags."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.conftest import LiveServer
from tests.console.conftest import WX, api

WXAPP = WX["appid"]


def open_app(page: Page, server: LiveServer, name: str) -> None:
    page.goto(server.url + "/console/")
    page.get_by_role("link", name=name, exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)


def tag_names(page: Page, group: str = "") -> list[str]:
    return page.locator(f"section[data-group='{group}'] tbody tr[data-tag]").evaluate_all(
        "rows => rows.map(r => r.dataset.tag)")


def test_open_app_create_tag_and_a_duplicate_shows_the_problem(server: LiveServer, page: Page) -> None:
    open_app(page, server, WXAPP)
    expect(page.locator("tr[data-tag='vip']")).to_be_visible()
    page.get_by_label("New tag name").fill("spring-sale")
    page.get_by_role("button", name="Create tag").click()
    expect(page.locator("tr[data-tag='spring-sale']")).to_contain_text("0")
    expect(page.locator(".app-summary")).to_contain_text("3 subjects · 4 tags")

    page.get_by_label("New tag name").fill("vip")
    page.get_by_role("button", name="Create tag").click()
    problem = page.locator(".problem")
    expect(problem).to_contain_text("Already exists")  # the problem's title
    expect(problem).to_contain_text("tag_name already exists: 'vip'")  # and its detail
    expect(page.locator("tr[data-tag='vip']")).to_have_count(1)  # nothing crashed, nothing added


def test_rename_edit_order_and_delete_a_tag(server: LiveServer, page: Page) -> None:
    open_app(page, server, WXAPP)
    expect(page.locator("tr[data-tag='north']")).to_be_visible()
    assert tag_names(page) == ["星标组", "vip", "north"]
    page.locator("tr[data-tag='north']").get_by_role("button", name="Edit").click()
    page.get_by_label("Tag name", exact=True).fill("south")
    page.get_by_label("Tag order", exact=True).fill("7")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("tr[data-tag='south'] td").nth(2)).to_have_text("7")
    expect(page.locator("tr[data-tag='north']")).to_have_count(0)
    with api(server) as http:
        assert http.get(f"/v1/apps/{WXAPP}/tags/south").json()["order"] == 7

    page.locator("tr[data-tag='vip']").get_by_role("button", name="Delete").click()
    page.locator("tr[data-tag='vip']").get_by_role("button", name="Delete?").click()
    expect(page.locator("tr[data-tag='vip']")).to_have_count(0)
    expect(page.locator(".app-summary")).to_contain_text("2 tags")

    page.locator("tr[data-tag='星标组']").get_by_role("button", name="Edit").click()  # WeChat's reserved tag
    page.get_by_label("Tag name", exact=True).fill("renamed")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".problem")).to_contain_text("Forbidden")
    expect(page.locator(".problem")).to_contain_text("reserved_tag")


def test_reorder_tags_and_groups(server: LiveServer, page: Page) -> None:
    open_app(page, server, "acme-scrm")
    expect(page.locator("section[data-group='Level'] tbody tr[data-tag]")).to_have_count(2)
    assert tag_names(page, "Level") == ["Gold", "Silver"]
    page.get_by_role("button", name="Move Silver up").click()
    expect(page.locator("section[data-group='Level'] tbody tr").first).to_have_attribute("data-tag", "Silver")
    with api(server) as http:  # the order is the server's, not only the page's
        group = http.get("/v1/apps/acme-scrm/groups").json()[0]
        assert [t["name"] for t in group["tags"]] == ["Silver", "Gold"]

    page.get_by_label("New group name").fill("Region")
    page.get_by_label("First tag of the group").fill("East")
    page.get_by_role("button", name="Create group").click()
    groups = page.locator("section.group[data-group]")
    expect(groups).to_have_count(2)
    assert groups.evaluate_all("els => els.map(e => e.dataset.group)") == ["Level", "Region"]
    page.locator("section[data-group='Region']").get_by_role("button", name="Move group Region up").click()
    expect(groups.first).to_have_attribute("data-group", "Region")


def test_juzibot_groups_create_rename_delete(server: LiveServer, page: Page) -> None:
    open_app(page, server, "acme-scrm")
    expect(page.locator(".app-summary")).to_contain_text("1 subject · 2 tags")  # singular, plural
    expect(page.locator("section[data-group='Level'] h2")).to_contain_text("order 10")
    assert tag_names(page, "Level") == ["Gold", "Silver"]
    page.get_by_label("New group name").fill("Region")
    page.get_by_label("First tag of the group").fill("East")
    page.get_by_role("button", name="Create group").click()
    expect(page.locator("section[data-group='Region'] tr[data-tag='East']")).to_be_visible()

    page.get_by_label("New tag name").fill("West")
    page.get_by_label("Group of the new tag").select_option(label="Region")
    page.get_by_role("button", name="Create tag").click()
    expect(page.locator("section[data-group='Region'] tr[data-tag='West']")).to_be_visible()

    page.locator("section[data-group='Region']").get_by_role("button", name="Edit group").click()
    page.get_by_label("Group name", exact=True).fill("Area")
    page.get_by_role("button", name="Save").click()
    area = page.locator("section[data-group='Area']")
    expect(area.locator("tbody tr[data-tag]")).to_have_count(2)

    area.get_by_role("button", name="Delete group").click()
    page.locator("section[data-group='Area']").get_by_role("button", name="Delete group and its tags?").click()
    expect(page.locator("section[data-group='Area']")).to_have_count(0)
    expect(page.locator("section[data-group='Level']")).to_be_visible()


def test_chart_of_the_largest_tags(server: LiveServer, page: Page) -> None:
    with api(server) as http:
        pairs = [{"subject": s, "tag": "vip"} for s in ("oA1", "oA2", "oA3")] + [{"subject": "oA1", "tag": "north"}]
        assert http.post(f"/v1/apps/{WXAPP}/memberships/add", json={"pairs": pairs}).json()["changed"] == 4
    open_app(page, server, WXAPP)
    bars = page.get_by_label("Largest tags by members").locator("li")
    expect(bars).to_have_count(2)
    expect(bars.nth(0)).to_contain_text("vip")
    expect(bars.nth(0)).to_contain_text("3")
    expect(bars.nth(1)).to_contain_text("north")
    widths = bars.locator(".bar-fill").evaluate_all("els => els.map(e => e.getBoundingClientRect().width)")
    assert widths[0] > widths[1] > 0
    expect(page.locator("tr[data-tag='vip'] td").nth(3)).to_have_text("3")
