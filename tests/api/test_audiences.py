"""Audiences through the SDK: count, keyset members, streamed export, and 400s with positions."""

from __future__ import annotations

import csv
import io
import json

import pytest

from polytag.client import ApiError, Client

PEOPLE = {  # subject -> tags
    "ann": ["广东", "vip"], "bob": ["广东", "星标组"], "cat": ["广东", "vip", "blacklist"],
    "dan": ["vip"], "eve": [], "fay": ["广东"],
}
EXPR = "广东 & (vip | 星标组) & !blacklist"


@pytest.fixture
def crm(sdk: Client) -> Client:
    sdk.create_subjects("crm", list(PEOPLE))
    for t in ("广东", "vip", "星标组", "blacklist"):
        sdk.create_tag("crm", t)
    sdk.add("crm", [(s, t) for s, tags in PEOPLE.items() for t in tags])
    return sdk


def test_count_text_and_json(crm: Client) -> None:
    assert crm.count("crm", EXPR) == 2
    assert crm.count("crm", {"and": [{"tag": "广东"}, {"or": [{"tag": "vip"}, {"tag": "星标组"}]},
                                     {"not": {"tag": "blacklist"}}]}) == 2
    assert crm.count("crm", "!广东") == 2 and crm.count("crm", "vip & 广东") == 2


def test_members_pages_follow_the_cursor(crm: Client) -> None:
    page = crm.members_page("crm", "广东", limit=3)
    assert page.items == ["ann", "bob", "cat"] and page.total == 4 and page.next
    page2 = crm.members_page("crm", "广东", cursor=page.next, limit=3)
    assert page2.items == ["fay"] and page2.next is None
    assert list(crm.members("crm", EXPR, page_size=1)) == ["ann", "bob"]


def test_pages_stay_put_when_earlier_members_leave(crm: Client) -> None:
    page = crm.members_page("crm", "广东", limit=2)
    crm.remove("crm", [("ann", "广东")])
    assert crm.members_page("crm", "广东", cursor=page.next, limit=2).items == ["cat", "fay"]


def test_export_ndjson_and_csv(crm: Client) -> None:
    lines = [json.loads(x) for x in b"".join(crm.export("crm", EXPR)).decode().splitlines()]
    assert lines == [{"subject": "ann", "tags": ["广东", "vip"]}, {"subject": "bob", "tags": ["广东", "星标组"]}]
    rows = list(csv.reader(io.StringIO(b"".join(crm.export("crm", "!广东", fmt="csv")).decode())))
    assert rows == [["subject", "tag"], ["dan", "vip"], ["eve", ""]]


@pytest.mark.parametrize(("expr", "reason", "position"), [
    ("广东 & (vip", "syntax", 9), ("vip & ghost", "unknown_tag", 6), ({"or": [{"tag": "x"}]}, "unknown_tag", "/or/0/tag"),
    ({"xor": []}, "syntax", "/"),
])
def test_bad_expressions_are_400_with_position(crm: Client, expr: object, reason: str, position: object) -> None:
    for call in (crm.count, crm.members_page, lambda app, e: list(crm.export(app, e))):
        with pytest.raises(ApiError) as info:
            call("crm", expr)  # type: ignore[operator]
        assert info.value.status == 400
        assert (info.value.problem["reason"], info.value.problem["position"]) == (reason, position)


def test_bad_cursor_and_limit(crm: Client) -> None:
    with pytest.raises(ApiError) as info:
        crm.members_page("crm", "vip", cursor="not-a-cursor")
    assert info.value.status == 400
    with pytest.raises(ApiError) as info:
        crm.members_page("crm", "vip", limit=10_001)
    assert info.value.status == 422
