"""JuziBot rules beyond the wire bytes: marks per pair, customer tags across members, the CLI, ids."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from polytag import cli, dialects, seed
from polytag.core import ids
from polytag.core.groups import Groups
from polytag.core.service import Service
from polytag.dialects import Call
from polytag.dialects.juzibot.errors import render
from polytag.dialects.juzibot.parts import contacts
from polytag.errors import Unavailable
from polytag.store import open_store
from tests import ID_SEED, et_id
from tests.dialects.juzibot.conftest import MAIN, TOKEN, UNION, call, golden_vars, listing

V = golden_vars()


def _mark(client: TestClient, user: str, add: list[str] = (), rm: list[str] = ()) -> int:  # type: ignore[assignment]
    got = call(client, "tag/mark", {"mark_list": [{"unionId": UNION, "userId": user,
                                                   "addTagId": list(add), "delTagId": list(rm)}]})
    return int(got["errcode"])


def _carried(service: Service, union: str = UNION) -> dict[str, list[str]]:
    app = service.apps.get("acme-scrm")
    return {c.tag.name: c.members for c in contacts(service).customer_tags(app, union)}


@pytest.fixture
def both_friends(service: Service, seeded: Callable[[dict[str, Any]], list[Any]], jz: TestClient) -> TestClient:
    """The main app again, with the customer now a friend of lily too (seeding is idempotent)."""
    seeded({"apps": [{**MAIN, "customers": [{"unionId": UNION, "friends": ["rocky", "lily"]}]}]})
    return jz


def test_marks_are_per_member_and_union_across_members(service: Service, both_friends: TestClient) -> None:
    assert _mark(both_friends, "rocky", [V["t0"]]) == 0
    assert _mark(both_friends, "lily", [V["t0"], V["t1"]]) == 0
    assert _carried(service) == {"VIP": ["lily", "rocky"], "普通": ["lily"]}
    assert _mark(both_friends, "lily", rm=[V["t0"]]) == 0  # rocky's VIP stays
    assert _carried(service) == {"VIP": ["rocky"], "普通": ["lily"]}


def test_a_failing_line_undoes_the_whole_mark(service: Service, jz: TestClient) -> None:
    got = call(jz, "tag/mark", {"mark_list": [
        {"unionId": UNION, "userId": "rocky", "addTagId": [V["t0"]]},
        {"unionId": UNION, "userId": "lily", "addTagId": [V["t1"]]},
    ]})
    assert got["errcode"] == 84061
    assert _carried(service) == {}


def test_deleting_a_group_drops_its_marks_and_a_new_tag_starts_clean(service: Service, jz: TestClient) -> None:
    assert _mark(jz, "rocky", [V["t0"], V["t1"]]) == 0
    assert call(jz, "tagGroup/delete", {"id": [V["g0"]]})["errcode"] == 0
    assert _carried(service) == {}
    made = call(jz, "tag/create", {"groupName": "客户等级", "tag": [{"name": "VIP"}]})
    assert made["data"][0]["id"] != V["g0"] and made["data"][0]["tags"][0]["id"] == V["t2"]
    assert _carried(service) == {}


def test_cli_prints_the_customer_tags_across_members(service: Service, both_friends: TestClient) -> None:
    assert _mark(both_friends, "rocky", [V["t1"]]) == 0
    assert _mark(both_friends, "lily", [V["t1"], V["t0"]]) == 0
    runner = CliRunner()
    res = runner.invoke(cli.main, ["customer-tags", "--app", "acme-scrm", UNION, "--db", service.store.url])
    assert res.exit_code == 0, res.output
    assert res.output.splitlines() == [f"{V['t0']}\t客户等级\tVIP\tlily", f"{V['t1']}\t客户等级\t普通\tlily,rocky"]
    res = runner.invoke(cli.main, ["customer-tags", "--app", "acme-scrm", "oNobody", "--db", service.store.url])
    assert res.exit_code != 0 and "customer not found" in res.output


def test_ids_are_et_32_unique_and_deterministic(service: Service, jz: TestClient) -> None:
    for i in range(3):
        call(jz, "tag/create", {"groupName": f"组{i}", "tag": [{"name": f"标签{j}"} for j in range(5)]})
    ids = [g["id"] for g in listing(jz)] + [t["id"] for g in listing(jz) for t in g["tags"]]
    assert all(re.fullmatch(r"et[A-Za-z0-9_-]{30}", i) for i in ids)
    assert len(set(ids)) == len(ids) == 4 + 17
    # the n-th group and tag of an app always get the same id (et_id of app name, kind, ordinal)
    assert set(ids) == {et_id("acme-scrm", "group", i) for i in range(4)} | {et_id("acme-scrm", "tag", i) for i in range(17)}


def test_seeding_twice_changes_nothing(service: Service, seeded: Callable[[dict[str, Any]], list[Any]],
                                       jz: TestClient) -> None:
    before = listing(jz)
    seeded({"apps": [MAIN]})
    assert listing(jz) == before


def test_an_unexpected_failure_is_a_system_error_envelope(jz: TestClient, monkeypatch: pytest.MonkeyPatch,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(Groups, "listing", boom)
    with caplog.at_level(logging.CRITICAL, logger="polytag.dialects"):
        resp = jz.get("/api/v1/tag/list", params={"token": TOKEN})
    assert (resp.status_code, resp.content) == (200, b'{"errcode":50000,"errmsg":"system error"}')


def test_an_unavailable_store_is_a_system_error_too() -> None:
    call_ = Call.__new__(Call)
    assert render(Unavailable("down"), call_) == (200, {"errcode": 50000, "errmsg": "system error"})


def test_a_real_server_answers_like_the_in_process_one(live_server: Callable[..., Any]) -> None:
    import httpx

    server = live_server({"apps": [MAIN]}, ["--id-seed", ID_SEED])
    with httpx.Client(base_url=server.url) as http:
        made = http.post("/api/v1/tag/create", params={"token": TOKEN},
                         content='{"groupName":"来源","tag":[{"name":"官网"}]}'.encode())
        assert made.json()["data"][0]["id"] == V["g1"]
        line = {"unionId": UNION, "userId": "rocky", "addTagId": [V["t2"]]}
        marked = http.post("/api/v1/tag/mark", params={"token": TOKEN}, json={"mark_list": [line]})
        assert marked.content == b'{"errcode":0,"errmsg":"ok"}'
        names = [g["name"] for g in http.get("/api/v1/tag/list", params={"token": TOKEN}).json()["data"]]
        assert names == ["客户等级", "来源"]
        assert http.get("/api/v1/tag/list").content == b'{"errcode":41001,"errmsg":"token missing"}'


def test_ids_come_from_secrets_without_an_id_seed(tmp_path: Path) -> None:
    """No id seed: two servers seeding the same app hand out different ids, none of them the
    seeded-less `et_id` an outsider could compute from the app's name."""
    made = []
    for n in range(2):
        found = dialects.discover()
        svc = Service(open_store(f"sqlite:///{tmp_path / f'{n}.db'}"), dialects.presets(found))
        try:
            seed.apply(svc, seed.validate({"apps": [MAIN]}), found)
            made.append({g.group.ext_id for g in svc.groups.listing(svc.apps.get("acme-scrm"))}
                        | {t.ext_id for g in svc.groups.listing(svc.apps.get("acme-scrm")) for t in g.tags})
        finally:
            svc.store.close()
    predictable = {ids.et_id("acme-scrm", kind, i) for kind in ("group", "tag") for i in range(4)}
    assert len(made[0]) == 3 and not made[0] & made[1] and not (made[0] | made[1]) & predictable
    assert all(len(i) == 32 and i.startswith("et") for i in made[0])


def test_another_apps_id_answers_like_a_missing_one(jz: TestClient) -> None:
    """A tenant cannot probe which ids exist: another app's tag and group ids answer 40068,
    byte for byte as ids nobody has."""
    missing = "et" + "0" * 30
    for path, body in (("tag/delete", lambda e: {"id": [e]}), ("tagGroup/delete", lambda e: {"id": [e]}),
                       ("tag/edit", lambda e: {"id": e, "name": "x"}),
                       ("tagGroup/edit", lambda e: {"id": e, "name": "x"})):
        answers = {ext: call(jz, path, body(ext)) for ext in (V["og0"], V["ot0"], missing)}
        assert all(a == {"errcode": 40068, "errmsg": "invalid tagid"} for a in answers.values()), (path, answers)
    assert call(jz, "tag/detail", method="GET", tagId=V["ot0"]) == call(jz, "tag/detail", method="GET", tagId=missing)
