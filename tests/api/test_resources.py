"""Apps, tags, groups, subjects and memberships through the SDK; auth and problem+json errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from polytag.client import ApiError, Client
from tests.api.conftest import KEY


def test_auth_is_required_when_a_key_is_set(make_client: Callable[..., Client]) -> None:
    for client_key in (None, "wrong"):
        with pytest.raises(ApiError) as info:
            make_client(KEY, client_key).apps()
        assert info.value.status == 401 and info.value.type == "/problems/unauthorized"
    assert make_client(KEY, KEY).apps() == []
    assert make_client(None, None).apps() == []  # no key configured: open (serve binds loopback only)


def test_openapi_and_docs_are_served(sdk: Client) -> None:
    doc = sdk.http.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    assert "/v1/apps/{app}/audiences/count" in doc["paths"]
    assert sdk.http.get("/docs").status_code == 200


def test_native_app_and_vendor_apps_by_name(sdk: Client, seeded: Callable[[dict[str, Any]], Any]) -> None:
    seeded({"apps": [{"dialect": "wechat", "appid": "wx1", "secret": "s", "followers": ["o1"], "tags": ["a"]},
                     {"dialect": "native", "name": "shop", "tags": ["x"], "subjects": ["s1", "s2"]}]})
    apps = {a.name: a for a in sdk.apps()}
    assert apps["crm"].dialect == "native" and apps["crm"].limits["tag_name_max"] == 128
    assert (apps["shop"].subjects, apps["shop"].tags) == (2, 1)
    assert "a" in [t.name for t in sdk.tags("wx1")]
    sdk.add("wx1", [("o1", "a")])
    assert sdk.count("wx1", "a") == 1
    with pytest.raises(ApiError) as info:
        sdk.app("nope")
    assert info.value.status == 404 and info.value.problem["kind"] == "app"


def test_tags_crud_and_counts(sdk: Client) -> None:
    t = sdk.create_tag("crm", "vip", order=3)
    assert (t.name, t.order, t.count) == ("vip", 3, 0)
    with pytest.raises(ApiError) as info:
        sdk.create_tag("crm", "vip")
    assert info.value.status == 409
    sdk.add("crm", [("u1", "vip"), ("u2", "vip")], create_subjects=True)
    assert sdk.tag("crm", "vip").count == 2 and sdk.tag("crm", t.id).name == "vip"
    assert sdk.update_tag("crm", t.id, name="VIP").name == "VIP"
    assert list(sdk.tag_members("crm", "VIP", page_size=1)) == ["u1", "u2"]
    sdk.delete_tag("crm", t.id)
    assert sdk.tags("crm") == []
    with pytest.raises(ApiError) as info:
        sdk.create_tag("crm", "x" * 129)
    assert info.value.status == 400 and info.value.problem["field"] == "name"


def test_groups(sdk: Client) -> None:
    g = sdk.create_group("crm", "region", ["north", ("south", 5)])
    assert [t.name for t in g.tags] == ["south", "north"]  # larger order first
    assert sdk.create_tag("crm", "east", group=g.id).group == g.id
    assert sdk.update_group("crm", g.id, name="area").name == "area"
    assert [x.name for x in sdk.groups("crm")] == ["area"]
    sdk.delete_group("crm", g.id)
    assert sdk.groups("crm") == [] and sdk.tags("crm") == []


def test_subjects_keyset_paging_and_tags(sdk: Client) -> None:
    ids = [f"u{i:02d}" for i in range(25)]
    assert sdk.create_subjects("crm", ids) == 25
    assert sdk.create_subjects("crm", ids[:3]) == 0
    page = sdk.subjects_page("crm", limit=10)
    assert page.items == ids[:10] and page.total == 25 and page.next
    assert list(sdk.subjects("crm", page_size=7)) == ids
    sdk.add("crm", [("u03", "a"), ("u03", "b")], create_tags=True)
    s = sdk.subject("crm", "u03")
    assert s.id == "u03" and [t.name for t in s.tags or []] == ["a", "b"]
    with pytest.raises(ApiError) as info:
        sdk.subjects_page("crm", cursor="%%%")
    assert info.value.status == 400


def test_bulk_memberships_are_atomic(sdk: Client) -> None:
    sdk.create_subjects("crm", ["a", "b"])
    sdk.create_tag("crm", "t")
    with pytest.raises(ApiError) as info:
        sdk.add("crm", [("a", "t"), ("ghost", "t")])
    assert info.value.status == 404 and info.value.problem["kind"] == "subject"
    assert sdk.tag("crm", "t").count == 0
    with pytest.raises(ApiError):
        sdk.add("crm", [("a", "t"), ("b", "nope")])
    assert sdk.add("crm", [("a", "t"), ("b", "t"), ("a", "t")]).changed == 2
    assert sdk.add("crm", [("a", "t")]).changed == 0
    assert sdk.remove("crm", [("a", "t"), ("b", "t")]).changed == 2


def test_bulk_accepts_ten_thousand_pairs_and_refuses_more(sdk: Client) -> None:
    pairs = [(f"s{i}", "big") for i in range(10_000)]
    done = sdk.add("crm", pairs, create_subjects=True, create_tags=True)
    assert done.changed == 10_000 and done.created_tags == ["big"]
    with pytest.raises(ApiError) as info:
        sdk.add("crm", [*pairs, ("s0", "other")])
    assert info.value.status in (400, 422)


@pytest.mark.parametrize("body", [b"{", b"[]", b'{"pairs": 5}', b'{"pairs": [{"subject": 1}]}', b"\xff"])
def test_bad_bodies_are_problems_never_500(sdk: Client, body: bytes) -> None:
    for path in ("/v1/apps/crm/memberships/add", "/v1/apps/crm/audiences/count", "/v1/apps/crm/tags"):
        r = sdk.http.post(path, content=body, headers={"Content-Type": "application/json"})
        assert r.status_code in (400, 422), (path, body, r.text)
        assert r.headers["content-type"] == "application/problem+json"


def test_ambiguous_tag_names_need_an_id(sdk: Client) -> None:
    g1 = sdk.create_group("crm", "g1", ["x"])
    sdk.create_group("crm", "g2", ["x"])
    sdk.create_subjects("crm", ["a"])
    with pytest.raises(ApiError) as info:
        sdk.add("crm", [("a", "x")])
    assert info.value.status == 400 and info.value.problem["reason"] == "ambiguous"
    with pytest.raises(ApiError) as info:
        sdk.count("crm", "x")
    assert info.value.problem["reason"] == "ambiguous_tag"
    x1 = g1.tags[0].id
    assert sdk.add("crm", [("a", x1)]).changed == 1
    assert sdk.count("crm", f"#{x1}") == 1


def test_unknown_routes_and_methods_are_problems(sdk: Client) -> None:
    for method, path in (("GET", "/v1/nope"), ("DELETE", "/v1/apps"), ("GET", "/v1/apps/crm/tags/404")):
        r = sdk.http.request(method, path)
        assert r.status_code in (404, 405) and r.headers["content-type"] == "application/problem+json"


def test_subjects_created_at_is_unix_seconds_whoever_creates_them(
        sdk: Client, service: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Native subjects, imported ones and vendor followers share one unit: WeChat's subscribe_time."""
    monkeypatch.setattr(service.clock, "now", lambda: 1_700_000_123.75)
    sdk.create_subjects("crm", ["s1"])
    sdk.add("crm", [("s2", "a")], create_subjects=True, create_tags=True)
    assert sdk.subject("crm", "s1").created_at == sdk.subject("crm", "s2").created_at == 1_700_000_123
