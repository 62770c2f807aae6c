"""Hostile but authorized native input answers 4xx, never 5xx (issue 15, findings 10 and 11):
orders past 64 bits, unknown or untyped limits (given, or stored by an older version), cursors
past any ordinal, NUL and lone surrogates, and audience expressions too large for the event loop."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from polytag.api import audiences
from polytag.client import ApiError, Client
from polytag.core import audience as au
from polytag.core.limits import BOUNDS, INT64_MAX
from polytag.core.service import Service

JSON = {"Content-Type": "application/json"}


def post(sdk: Client, path: str, raw: str, method: str = "POST") -> Any:
    """A body sent as written (json.dumps escapes lone surrogates, which httpx's encoder refuses)."""
    return sdk.http.request(method, path, content=raw.encode("utf-8"), headers=JSON)


@pytest.mark.parametrize("order", [10**30, -(10**30), INT64_MAX + 1])
def test_an_order_past_64_bits_is_422_on_create_and_patch(sdk: Client, order: int) -> None:
    for path, body, method in [
        ("/v1/apps/crm/tags", {"name": "t", "order": order}, "POST"),
        ("/v1/apps/crm/groups", {"name": "g", "order": order, "tags": [{"name": "x"}]}, "POST"),
        ("/v1/apps/crm/groups", {"name": "g", "tags": [{"name": "x", "order": order}]}, "POST"),
    ]:
        r = post(sdk, path, json.dumps(body), method)
        assert r.status_code == 422, (path, r.text)
    tag = sdk.create_tag("crm", "t")
    r = post(sdk, f"/v1/apps/crm/tags/{tag.id}", json.dumps({"order": order}), "PATCH")
    assert r.status_code == 422 and "order" in r.json()["detail"]
    assert sdk.tag("crm", "t").order == 0


def test_a_native_app_named_like_a_vendor_app_is_409(sdk: Client, seeded: Callable[[dict[str, Any]], Any]) -> None:
    seeded({"apps": [{"dialect": "wechat", "appid": "wx1", "secret": "s"}]})
    with pytest.raises(ApiError) as info:
        sdk.create_app("wx1")
    assert info.value.status == 409 and "exists with dialect 'wechat'" in info.value.problem["detail"]
    assert sdk.app("wx1").dialect == "wechat"


def test_the_largest_order_both_stores_hold_round_trips(sdk: Client) -> None:
    assert sdk.create_tag("crm", "top", order=INT64_MAX).order == INT64_MAX
    assert sdk.update_tag("crm", "top", order=-(2**63)).order == -(2**63)


@pytest.mark.parametrize(("limits", "detail"), [
    ({"batch": 5}, "limit 'batch' must be an object of integers"),
    ({"bogus": 1}, "unknown limit 'bogus': valid keys are account_id_max_bytes, attr_max_bytes, attr_slots, batch, daily_quotas"),
    ({"tag_name_max": "abc"}, "limit 'tag_name_max' must be an integer >= 1"),
    ({"tag_name_max": 0}, "limit 'tag_name_max' must be an integer >= 1"),
    ({"tags_per_app": 10**30}, "limit 'tags_per_app' must be an integer >= 0"),
    ({"tag_name_unit": "furlongs"}, "limit 'tag_name_unit' must be \"bytes\" or \"chars\""),
    ({"batch": {"memberships": True}}, "limit 'batch.memberships' must be an integer >= 1"),
])
def test_limits_on_app_create_are_known_typed_and_in_range(sdk: Client, limits: dict[str, Any],
                                                           detail: str) -> None:
    with pytest.raises(ApiError) as info:
        sdk.create_app("shop", limits=limits)
    assert info.value.status == 400 and info.value.problem["field"] == "limits"
    assert detail in info.value.problem["detail"]
    assert "shop" not in [a.name for a in sdk.apps()]  # nothing stored


def test_good_limits_are_kept(sdk: Client) -> None:
    app = sdk.create_app("shop", limits={"tag_name_max": 5, "batch": {"memberships": 3}, "tags_per_app": None})
    assert app.limits["tag_name_max"] == 5 and app.limits["batch"]["memberships"] == 3


def test_stored_untyped_limits_do_not_break_the_app(sdk: Client, service: Service) -> None:
    """An older version stored whatever it was given; such values are skipped, the preset holds."""
    bad = {"limits": {"tag_name_max": "abc", "tags_per_subject": [1], "batch": 5, "page_size": None}}
    service.write_sync(lambda tx: service.apps.upsert(tx, "native", "old", config=bad))
    assert sdk.app("old").limits["tag_name_max"] == 128
    assert sdk.create_tag("old", "x" * 100).name == "x" * 100
    sdk.add("old", [("s1", "x" * 100)], create_subjects=True)
    assert sdk.count("old", "x" * 100) == 1


@pytest.mark.parametrize("ordinal", [2**32, 10**30, 10**200])
def test_a_cursor_past_any_ordinal_is_400(sdk: Client, ordinal: int) -> None:
    sdk.add("crm", [("s1", "t")], create_subjects=True, create_tags=True)
    cursor = au.encode_cursor(ordinal)
    for method, path, kw in [
        ("GET", "/v1/apps/crm/subjects", {"params": {"cursor": cursor}}),
        ("GET", "/v1/apps/crm/tags/t/members", {"params": {"cursor": cursor}}),
        ("POST", "/v1/apps/crm/audiences/members", {"json": {"expr": "t", "cursor": cursor}}),
    ]:
        r = sdk.http.request(method, path, **kw)
        assert r.status_code == 400 and r.json()["field"] == "cursor", (path, r.text)
    assert au.decode_cursor(au.encode_cursor(2**32 - 1)) == 2**32 - 1


@pytest.mark.parametrize("bad", ["\\ud800", "x\\udc80y", "a\\u0000b"])
def test_nul_and_lone_surrogates_are_refused(sdk: Client, bad: str) -> None:
    for path, raw in [
        ("/v1/apps", f'{{"name": "{bad}"}}'),
        ("/v1/apps/crm/tags", f'{{"name": "{bad}"}}'),
        ("/v1/apps/crm/groups", f'{{"name": "{bad}", "tags": [{{"name": "x"}}]}}'),
        ("/v1/apps/crm/groups", f'{{"name": "g", "tags": [{{"name": "{bad}"}}]}}'),
        ("/v1/apps/crm/subjects", f'{{"ids": ["ok", "{bad}"]}}'),
        ("/v1/apps/crm/memberships/add", f'{{"pairs": [{{"subject": "{bad}", "tag": "t"}}], '
                                         '"create_subjects": true, "create_tags": true}'),
        ("/v1/apps/crm/memberships/add", f'{{"pairs": [{{"subject": "s", "tag": "{bad}"}}], '
                                         '"create_subjects": true, "create_tags": true}'),
    ]:
        r = post(sdk, path, raw)
        assert r.status_code in (400, 422), (path, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    assert [a.name for a in sdk.apps()] == ["crm"] and sdk.tags("crm") == []
    assert sdk.subjects_page("crm").total == 0
    r = post(sdk, "/v1/apps/crm/audiences/count", f'{{"expr": "{bad}"}}')
    assert r.status_code == 400 and r.json()["reason"] == "unknown_tag"


def test_nul_in_a_path_is_404_not_500(sdk: Client) -> None:
    for path in ("/v1/apps/a%00b", "/v1/apps/crm/tags/a%00b", "/v1/apps/crm/subjects/a%00b"):
        assert sdk.http.get(path).status_code == 404, path


# audiences: size bounds, one look-up per distinct tag, never on the event loop -------------
def test_an_expression_over_the_text_bound_is_refused(sdk: Client) -> None:
    sdk.create_tag("crm", "ok")
    big = "|".join(["ok"] * 70_000)  # 210 KB, under the body cap (a 1 MB one took 6.8 s on the loop)
    r = sdk.http.post("/v1/apps/crm/audiences/count", json={"expr": big})
    assert r.status_code == 400 and r.json()["reason"] == "too_long"
    assert "BOUNDS.expr_chars" in r.json()["detail"]


def test_an_expression_over_the_term_bound_is_refused(sdk: Client) -> None:
    sdk.create_tag("crm", "ok")
    n = BOUNDS.expr_terms + 1
    for expr in ({"or": [{"tag": "ok"}] * n}, {"or": ["ok"] * n}, "|".join(["o"] * (n // 2 + 1))):
        r = sdk.http.post("/v1/apps/crm/audiences/count", json={"expr": expr})
        assert r.status_code == 400 and r.json()["reason"] == "too_many_terms", r.text


def test_repeated_names_are_looked_up_once(sdk: Client, service: Service,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    sdk.add("crm", [("s1", "vip"), ("s2", "ok")], create_subjects=True, create_tags=True)
    rows_class = type(service.store.read())
    asked: list[str] = []
    real = rows_class.tags_by_name

    def spy(self: Any, app_id: int, name: str) -> Any:
        asked.append(name)
        return real(self, app_id, name)

    monkeypatch.setattr(rows_class, "tags_by_name", spy)
    expr = " | ".join(["vip", "ok"] * 2_000)
    assert sdk.count("crm", expr) == 2
    assert sdk.count("crm", {"or": [{"tag": "vip"}] * 3_000 + [{"tag": "ok"}]}) == 2
    assert sorted(asked) == ["ok", "ok", "vip", "vip"]


def test_only_small_expressions_run_on_the_event_loop(sdk: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    sdk.add("crm", [("s1", "vip")], create_subjects=True, create_tags=True)
    assert sdk.count("crm", "vip") == 1  # the index is warm from here on
    hops: list[Callable[[], Any]] = []
    real = audiences.run_in_threadpool

    async def counted(fn: Callable[[], Any]) -> Any:
        hops.append(fn)
        return await real(fn)

    monkeypatch.setattr(audiences, "run_in_threadpool", counted)
    assert sdk.count("crm", "vip") == 1 and hops == []
    assert sdk.count("crm", " | ".join(["vip"] * 500)) == 1 and len(hops) == 1
    assert sdk.count("crm", {"or": [{"tag": "vip"}] * 50}) == 1 and len(hops) == 2
    assert sdk.members_page("crm", " | ".join(["vip"] * 500)).items == ["s1"] and len(hops) == 3
