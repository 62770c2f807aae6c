"""One corp, two faces: a JuziBot seed entry with `corpid:` sees a WeCom corp on the same server.
Groups, tags (the same `et` ids) and marks are one, whichever face wrote them; JuziBot's
createTimestamp is WeCom's create_time in milliseconds; each face's credential works only in it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from polytag import seed
from polytag.core.service import Service
from polytag.dialects.wecom.parts import contacts
from tests.dialects.juzibot.conftest import call as jz_call
from tests.dialects.wecom.conftest import (
    CORPID,
    CUSTOMER,
    EPOCH,
    FACE,
    JZ_TOKEN,
    MAIN,
    UNIONID,
    call,
    token,
)


@pytest.fixture
def faces(service: Service, seeded: Callable[[dict[str, Any]], list[Any]], client: TestClient,
          monkeypatch: pytest.MonkeyPatch) -> TestClient:
    monkeypatch.setattr(service.clock, "now", lambda: EPOCH + 0.75)  # a clock between two seconds
    seeded({"apps": [MAIN, FACE]})
    return client


def _jz_groups(client: TestClient) -> list[dict[str, Any]]:
    got = jz_call(client, "tag/list", method="GET", token=JZ_TOKEN)
    assert got["errcode"] == 0, got
    return list(got["data"])


def _we_groups(client: TestClient) -> list[dict[str, Any]]:
    got = call(client, "externalcontact/get_corp_tag_list", {}, access_token=token(client))
    assert got["errcode"] == 0, got
    return list(got["tag_group"])


def _same(jz: list[dict[str, Any]], we: list[dict[str, Any]]) -> None:
    """The two listings show one set of groups and tags: ids, names, orders, times, list order."""
    assert [(g["id"], g["name"], g["order"], g["createTimestamp"], [
        (t["id"], t["name"], t["order"], t["createTimestamp"]) for t in g["tags"]]) for g in jz] == [
        (g["group_id"], g["group_name"], g["order"], g["create_time"] * 1000, [
            (t["id"], t["name"], t["order"], t["create_time"] * 1000) for t in g["tag"]]) for g in we]


def test_tags_written_through_one_face_read_back_through_the_other(faces: TestClient) -> None:
    _same(_jz_groups(faces), _we_groups(faces))
    made = jz_call(faces, "tag/create", {"groupName": "来源", "order": 3, "tag": [{"name": "官网", "order": 1}]},
                   token=JZ_TOKEN)
    assert made["errcode"] == 0, made
    got = call(faces, "externalcontact/add_corp_tag", {"group_id": made["data"][0]["id"], "tag": [{"name": "展会"}]},
               access_token=token(faces))
    assert got["errcode"] == 0, got
    assert jz_call(faces, "tag/edit", {"id": got["tag_group"]["tag"][0]["id"], "order": 9},
                   token=JZ_TOKEN)["errcode"] == 0
    _same(_jz_groups(faces), _we_groups(faces))
    assert [t["name"] for t in _we_groups(faces)[1]["tag"]] == ["展会", "官网"]
    assert all(t["createTimestamp"] % 1000 == 0 for g in _jz_groups(faces) for t in g["tags"])


def test_marks_written_through_one_face_read_back_through_the_other(service: Service, faces: TestClient) -> None:
    vip, plain = (t["id"] for t in _we_groups(faces)[0]["tag"])
    got = jz_call(faces, "tag/mark", {"mark_list": [{"unionId": UNIONID, "userId": "zhangsan", "addTagId": [vip]}]},
                  token=JZ_TOKEN)
    assert got["errcode"] == 0, got
    assert call(faces, "externalcontact/mark_tag", {"userid": "zhangsan", "external_userid": CUSTOMER,
                                                     "add_tag": [plain]}, access_token=token(faces))["errcode"] == 0
    detail = call(faces, "externalcontact/get", method="GET", access_token=token(faces), external_userid=CUSTOMER)
    assert [t["tag_id"] for t in detail["follow_user"][0]["tags"]] == [vip, plain]
    got = jz_call(faces, "tag/mark", {"mark_list": [{"unionId": UNIONID, "userId": "lisi", "addTagId": [vip]}]},
                  token=JZ_TOKEN)
    assert got["errcode"] == 84061  # the corp's own friendships
    app = service.apps.get(CORPID)
    assert {c.tag.ext_id: c.members for c in contacts(service).customer_tags(app, CUSTOMER)} == {
        vip: ["zhangsan"], plain: ["zhangsan"]}


def test_each_face_takes_only_its_own_credential(faces: TestClient) -> None:
    assert call(faces, "externalcontact/get_corp_tag_list", {}, access_token=JZ_TOKEN)["errcode"] == 40014
    assert jz_call(faces, "tag/list", method="GET", token=token(faces))["errcode"] == 40014


def test_a_face_needs_its_corp_first(service: Service, seeded: Callable[[dict[str, Any]], list[Any]]) -> None:
    with pytest.raises(seed.SeedError, match="app not found"):
        seeded({"apps": [FACE]})
    seeded({"apps": [MAIN]})
    with pytest.raises(seed.SeedError, match="takes no members"):
        seeded({"apps": [{**FACE, "members": ["x"]}]})
    seeded({"apps": [FACE, FACE]})  # idempotent
