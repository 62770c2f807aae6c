"""A snapshot is checked whole before anything is written: a bad app record field, table or cell
is refused with 400 naming its path, and the apps here are left as they were (a bad dialect,
name, counter or config used to load, and reads of the app then answered 500)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.control.conftest import AUTH, WX

P = "/_polytag/snapshot"
Edit = Callable[[dict[str, Any]], None]


def app_of(doc: dict[str, Any]) -> dict[str, Any]:
    record: dict[str, Any] = doc["apps"][0]["app"]
    return record


def table(doc: dict[str, Any], name: str) -> dict[str, Any]:
    got: dict[str, Any] = doc["apps"][0]["tables"][name]
    return got


def set_app(field: str, value: Any) -> Edit:
    return lambda doc: app_of(doc).__setitem__(field, value)


def set_cell(name: str, column: str, value: Any) -> Edit:
    def edit(doc: dict[str, Any]) -> None:
        t = table(doc, name)
        t["rows"][0][t["columns"].index(column)] = value
    return edit


def subjects_only(doc: dict[str, Any]) -> None:
    """next_subject left as it is, the subject rows dropped: ords no longer reach it."""
    table(doc, "subjects")["rows"] = []


CASES: list[tuple[str, Edit, str]] = [
    *[(f"dialect={v!r}", set_app("dialect", v), "apps[0].app.dialect: must be one of")
      for v in ("", "x", 1, True, None, "wechat\x00")],
    *[(f"name={v[:8]!r}", set_app("name", v), "apps[0].app.name: must be a non-empty string")
      for v in ("", " ", "\x00", "a\x00b", "x" * 100_000)],
    ("name=7", set_app("name", 7), "every app needs"),
    *[(f"next_subject={v!r}", set_app("next_subject", v), "apps[0].app.next_subject: must be an integer >= ")
      for v in ("3", -1, 0, False, -1e308, 2**63, None)],
    ("next_subject above", lambda d: app_of(d).__setitem__("next_subject", app_of(d)["next_subject"] + 5),
     "apps[0].app.next_subject: must be 3"),
    ("subjects dropped", subjects_only, "apps[0].app.next_subject: must be 0"),
    *[(f"{c}={v!r}", set_app(c, v), f"apps[0].app.{c}: must be an integer >= ")
      for c in ("next_tag", "mseq", "next_group") for v in (-1, "1", 1.5, 2**64)],
    ("next_tag below", set_app("next_tag", 0), "apps[0].app.next_tag: must be an integer >= 2"),
    ("mseq below", set_app("mseq", 0), "apps[0].app.mseq: must be an integer >= 1"),
    *[(f"config={v!r}", set_app("config", v), "apps[0].app.config: must be the text of a JSON object")
      for v in ({}, "[]", "null", "{", 5, "{\"a\": 1}\x00")],
    ("config limits", set_app("config", '{"limits": {"tag_name_max": "abc"}}'),
     "apps[0].app.config.limits: limit 'tag_name_max' must be"),
    ("config unknown limit", set_app("config", '{"limits": {"nope": 1}}'), "apps[0].app.config.limits: unknown"),
    ("created_at", set_app("created_at", "now"), "apps[0].app.created_at: must be a finite number"),
    ("secret_hash", set_app("secret_hash", 5), "apps[0].app.secret_hash: must be a string"),
    ("tables", lambda d: d["apps"][0].__setitem__("tables", []), "apps[0].tables: must be an object"),
    ("unknown table", lambda d: d["apps"][0]["tables"].__setitem__("nope", {}), "apps[0].tables: unknown table"),
    ("table shape", lambda d: d["apps"][0]["tables"].__setitem__("tags", []), "apps[0].tables.tags: a table"),
    ("row shape", lambda d: table(d, "tags")["rows"].append([1]), "apps[0].tables.tags: every row"),
    ("ext_id type", set_cell("subjects", "ext_id", 5), "apps[0].tables.subjects.rows[0].ext_id: must be a string"),
    ("ext_id NUL", set_cell("subjects", "ext_id", "a\x00"), "apps[0].tables.subjects.rows[0].ext_id: must be"),
    ("ord text", set_cell("subjects", "ord", "0"), "apps[0].tables.subjects.rows[0].ord: must be an integer"),
    ("ord gap", set_cell("subjects", "ord", 7), "apps[0].tables.subjects: ord must run 0..2"),
    ("tag ord huge", set_cell("tags", "ord", 2**70), "apps[0].tables.tags.rows[0].ord: must be an integer"),
    ("null", set_cell("tags", "name", None), "apps[0].tables.tags.rows[0].name: may not be null"),
    ("blob", set_cell("membership_log", "subjects", "AAAA"),
     "apps[0].tables.membership_log.rows[0].subjects: must be bytes"),
]


def state(ctl: TestClient) -> Any:
    return ctl.get(P, headers=AUTH).json()["apps"]


@pytest.fixture
def doc(ctl: TestClient) -> dict[str, Any]:
    token = ctl.post("/cgi-bin/stable_token", json={"grant_type": "client_credential", "appid": WX["appid"],
                                                   "secret": WX["secret"]}).json()["access_token"]
    got = ctl.post(f"/cgi-bin/tags/members/batchtagging?access_token={token}",
                   json={"tagid": 100, "openid_list": ["oF1"]}).json()
    assert got["errcode"] == 0, got
    snap: dict[str, Any] = ctl.get(P, params={"app": WX["appid"]}, headers=AUTH).json()
    assert len(table(snap, "subjects")["rows"]) == 3 and table(snap, "membership_log")["rows"]
    return snap


def test_the_unchanged_snapshot_loads(ctl: TestClient, doc: dict[str, Any]) -> None:
    r = ctl.post(P, json=doc, headers=AUTH)
    assert r.status_code == 200 and r.json()["loaded"] == [WX["appid"]]


@pytest.mark.parametrize(("what", "edit", "message"), CASES, ids=[c[0] for c in CASES])
def test_a_bad_field_is_refused_and_nothing_changes(ctl: TestClient, doc: dict[str, Any], what: str,
                                                    edit: Edit, message: str) -> None:
    before = state(ctl)
    bad = copy.deepcopy(doc)
    edit(bad)
    r = ctl.post(P, json=bad, headers=AUTH)
    assert r.status_code == 400, (what, r.status_code, r.text[:300])
    assert message in r.text, (what, r.text[:300])
    assert state(ctl) == before
    assert ctl.get(f"/v1/apps/{WX['appid']}/tags", headers=AUTH).status_code == 200
