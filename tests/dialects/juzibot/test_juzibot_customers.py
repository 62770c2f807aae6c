"""JuziBot customers: seeded profiles, per-member tags, paging, and the public client's flow
(customer/detail by externalUserId for the unionId, then tag/mark)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from polytag.core.customers import derived_external_id
from tests.dialects.juzibot.conftest import call, listing

TOKEN = "customers-token-000000000000000"
SEED: dict[str, Any] = {
    "dialect": "juzibot", "name": "crm", "token": TOKEN, "members": ["rocky", "lily", "max"],
    "customers": [
        {"unionId": "u-ann", "friends": ["rocky", "lily"], "externalUserId": "wmAnnExternal0000000000000000001",
         "name": "李四", "gender": 2},
        {"unionId": "u-bob", "friends": ["lily"]},
        {"unionId": "u-cat", "friends": []},
    ],
    "groups": [{"name": "等级", "order": 9, "tags": [{"name": "VIP", "order": 5}, {"name": "普通"}]},
               {"name": "来源", "tags": [{"name": "展会"}]}],
}


@pytest.fixture
def crm(seeded: Callable[[dict[str, Any]], list[Any]], client: TestClient) -> dict[str, str]:
    seeded({"apps": [SEED]})
    return {t["name"]: t["id"] for g in listing(client, TOKEN) for t in g["tags"]}


def get(client: TestClient, path: str, **query: str) -> dict[str, Any]:
    return call(client, path, method="GET", token=TOKEN, **query)


def test_the_public_clients_flow(client: TestClient, crm: dict[str, str]) -> None:
    """tag.py (the one public caller): detail by externalUserId, read data.unionId, then tag/mark."""
    found = get(client, "customer/detail", externalUserId="wmAnnExternal0000000000000000001")
    assert found["errcode"] == 0 and found["data"]["unionId"] == "u-ann"
    marked = call(client, "tag/mark", {"mark_list": [
        {"unionId": found["data"]["unionId"], "userId": "rocky", "addTagId": [crm["VIP"], crm["展会"]]},
        {"unionId": "u-ann", "userId": "lily", "addTagId": [crm["普通"]]}]}, token=TOKEN)
    assert marked == {"errcode": 0, "errmsg": "ok"}
    data = get(client, "customer/detail", unionId="u-ann")["data"]
    assert (data["name"], data["gender"], data["type"]) == ("李四", 2, 1)
    tags = {f["userId"]: [(t["groupName"], t["tagName"], t["tagId"]) for t in f["tags"]] for f in data["followUser"]}
    assert tags == {"rocky": [("等级", "VIP", crm["VIP"]), ("来源", "展会", crm["展会"])],
                    "lily": [("等级", "普通", crm["普通"])]}


def test_derived_external_ids_find_their_customer(client: TestClient, crm: dict[str, str]) -> None:
    ext = derived_external_id("crm", "u-bob")
    assert len(ext) == 32 and ext.startswith("wm")
    data = get(client, "customer/detail", externalUserId=ext)["data"]
    assert (data["unionId"], data["externalUserId"], data["name"]) == ("u-bob", ext, "u-bob")
    assert get(client, "customer/detail", externalUserId=derived_external_id("other", "u-bob"))["errcode"] == 40096


def test_list_pages_oldest_first_then_by_union_id_and_by_member(client: TestClient, crm: dict[str, str]) -> None:
    pages = [get(client, "customer/list", current=str(p), pageSize="2") for p in (1, 2, 3)]
    assert [[c["unionId"] for c in p["data"]] for p in pages] == [["u-ann", "u-bob"], ["u-cat"], []]
    assert {p["total"] for p in pages} == {3}
    lily = get(client, "customer/list", current="1", pageSize="1000", userId="lily")
    assert [c["unionId"] for c in lily["data"]] == ["u-ann", "u-bob"] and lily["total"] == 2
    nobody = get(client, "customer/list", current="1", pageSize="10", userId="no-such-member")
    assert nobody["data"] == [] and nobody["total"] == 0
    assert get(client, "customer/list", current="1", pageSize="10")["data"][2]["followUser"] == []


def test_tags_deleted_or_unmarked_leave_the_customer(client: TestClient, crm: dict[str, str]) -> None:
    call(client, "tag/mark", {"mark_list": [{"unionId": "u-bob", "userId": "lily", "addTagId": [crm["VIP"]]}]},
         token=TOKEN)
    call(client, "tag/delete", {"id": [crm["VIP"]]}, token=TOKEN)
    data = get(client, "customer/detail", unionId="u-bob")["data"]
    assert data["followUser"][0]["tags"] == []


@pytest.mark.parametrize("gender", [3, -1, "x"])
def test_a_seed_with_a_bad_gender_is_refused(seeded: Callable[[dict[str, Any]], list[Any]], gender: Any) -> None:
    entry = {**SEED, "customers": [{"unionId": "u", "friends": [], "gender": gender}]}
    with pytest.raises(ValueError):
        seeded({"apps": [entry]})
