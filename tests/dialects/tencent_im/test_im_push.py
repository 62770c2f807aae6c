"""im_push: validation codes, audiences from conditions, de-duplication, pacing and the push log."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from polytag.cli import main
from polytag.core.service import Service
from tests.dialects.tencent_im.conftest import SDKAPPID, Caller, app_entry

PUSH = "all_member_push/im_push"
MSG = [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "hi"}}]


def push(call: Caller, service: Service, rnd: int, **fields: Any) -> dict[str, Any]:
    service.clock.advance(2)  # pushes less than 1 s apart are refused (90024)
    return call(PUSH, {"MsgRandom": rnd, "MsgBody": MSG, **fields})


def pushes_log(service: Service) -> list[dict[str, Any]]:
    """The push log through the CLI, as a user would read it."""
    out = CliRunner().invoke(main, ["pushes", "--app", str(SDKAPPID), "--db", service.store.url])
    assert out.exit_code == 0, out.output
    return [json.loads(line) for line in out.output.splitlines()]


@pytest.fixture
def tagged(call: Caller) -> Caller:
    call("all_member_push/im_add_tag", {"UserTags": [
        {"To_Account": "xiaojun012", "Tags": ["a", "b"]},
        {"To_Account": "xiaojun013", "Tags": ["a", "c"]},
        {"To_Account": "xiaojun014", "Tags": ["c"]},
    ]})
    call("all_member_push/im_set_attr_name", {"AttrNames": {"0": "sex", "1": "city"}})
    call("all_member_push/im_set_attr", {"UserAttrs": [
        {"To_Account": "xiaojun012", "Attrs": {"sex": "f", "city": "sz"}},
        {"To_Account": "xiaojun013", "Attrs": {"sex": "m", "city": "sz"}},
    ]})
    return call


@pytest.mark.parametrize(("condition", "audience"), [
    (None, ["xiaojun012", "xiaojun013", "xiaojun014"]),
    ({}, ["xiaojun012", "xiaojun013", "xiaojun014"]),
    ({"TagsAnd": ["a", "b"]}, ["xiaojun012"]),
    ({"TagsOr": ["b", "c"]}, ["xiaojun012", "xiaojun013", "xiaojun014"]),
    ({"TagsAnd": ["a"], "TagsOr": ["b", "c"]}, ["xiaojun012", "xiaojun013"]),
    ({"TagsAnd": ["nobody-has-it"]}, []),
    ({"AttrsAnd": {"sex": "f", "city": "sz"}}, ["xiaojun012"]),
    ({"AttrsOr": {"sex": "m", "city": "sz"}}, ["xiaojun012", "xiaojun013"]),
    ({"AttrsAnd": {"city": "sz"}, "AttrsOr": {"sex": "m"}}, ["xiaojun013"]),
])
def test_audience(tagged: Caller, service: Service, condition: Any, audience: list[str]) -> None:
    fields = {} if condition is None else {"Condition": condition}
    r = push(tagged, service, 7, **fields)
    assert r["ActionStatus"] == "OK" and list(r) == ["ActionStatus", "ErrorInfo", "ErrorCode", "TaskId"]
    (logged,) = pushes_log(service)
    assert logged["TaskId"] == r["TaskId"] and logged["MsgRandom"] == 7
    assert logged["audience"] == audience and logged["audience_size"] == len(audience)
    assert logged["Condition"] == {k: v for k, v in (condition or {}).items() if v}


def test_deleted_accounts_receive_nothing(tagged: Caller, service: Service) -> None:
    tagged("im_open_login_svc/account_delete", {"DeleteItem": [{"UserID": "xiaojun013"}]})
    push(tagged, service, 1)
    push(tagged, service, 2, Condition={"AttrsAnd": {"city": "sz"}})
    assert [p["audience"] for p in pushes_log(service)] == [["xiaojun012", "xiaojun014"], ["xiaojun012"]]


def test_same_random_within_7_days_is_the_same_task(call: Caller, service: Service) -> None:
    first = push(call, service, 42)["TaskId"]
    assert push(call, service, 42)["TaskId"] == first
    assert push(call, service, 43)["TaskId"] != first
    service.clock.advance(7 * 86400 + 1)
    assert push(call, service, 42)["TaskId"] != first
    assert len(pushes_log(service)) == 3


def test_less_than_a_second_apart_90024(call: Caller, service: Service) -> None:
    assert push(call, service, 1)["ErrorCode"] == 0
    r = call(PUSH, {"MsgRandom": 2, "MsgBody": MSG})
    assert (r["ErrorCode"], r["ErrorInfo"]) == (90024, "The interval between two pushes is less than 1 second.")
    assert len(pushes_log(service)) == 1


def test_daily_cap_90047_is_configurable(seeded: Any, call: Caller, service: Service) -> None:
    seeded({"apps": [app_entry(push_per_day=2)]})
    service.clock.set(1_800_000_000 - 8 * 3600 + 3600)  # 01:00 Beijing time: the day has 23 h left
    assert [push(call, service, r)["ErrorCode"] for r in (1, 2, 3)] == [0, 0, 90047]
    service.clock.advance(86400)
    assert push(call, service, 4)["ErrorCode"] == 0


def test_push_disabled_90045(seeded: Any, call: Caller, service: Service) -> None:
    seeded({"apps": [app_entry(push_enabled=False)]})
    assert push(call, service, 1)["ErrorCode"] == 90045


@pytest.mark.parametrize(("fields", "want"), [
    ({"MsgRandom": None}, 90005), ({"MsgRandom": "12"}, 90005), ({"MsgRandom": True}, 90005),
    ({"MsgRandom": 1.5}, 90005), ({"MsgRandom": -1}, 90005),
    ({"MsgLifeTime": 604801}, 90026), ({"MsgLifeTime": "1"}, 90026), ({"MsgLifeTime": -5}, 90026),
    ({"Condition": {"TagsAnd": ["a"], "TagsOr": ["a"]}}, 90022),
    ({"Condition": {"TagsOr": [str(i) for i in range(11)]}}, 90032),
    ({"Condition": {"TagsAnd": [str(i) for i in range(6)], "TagsOr": [f"x{i}" for i in range(5)]}}, 90032),
    ({"Condition": {"TagsAnd": ["a"], "AttrsOr": {"sex": "f"}}}, 90039),
    ({"Condition": {"TagsOr": ["a", ""]}}, 90040),
    ({"Condition": {"TagsOr": ["x" * 51]}}, 90020),
    ({"Condition": {"AttrsAnd": {"height": "1"}}}, 90033),
    ({"Condition": "all"}, 90001), ({"Condition": {"TagsOr": "a"}}, 90001),
    ({"Condition": {"AttrsOr": {"sex": 1}}}, 90001),
    ({"MsgBody": "hi"}, 90001), ({"MsgBody": None}, 90001), ({"From_Account": 5}, 90001),
])
def test_validation(tagged: Caller, service: Service, fields: dict[str, Any], want: int) -> None:
    body = {"MsgRandom": 1, "MsgBody": MSG, **fields}
    body = {k: v for k, v in body.items() if v is not None}
    service.clock.advance(2)
    r = tagged(PUSH, body)
    assert (r["ActionStatus"], r["ErrorCode"]) == ("FAIL", want)
    assert pushes_log(service) == []


def test_oversize_body_90056(call: Caller) -> None:
    r = call(PUSH, {"MsgRandom": 1, "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "x" * 11000}}]})
    assert r["ErrorCode"] == 90056


def test_the_body_cap_is_the_apps_typed_limit(seeded: Any, call: Caller, service: Service) -> None:
    seeded({"apps": [app_entry(limits={"push_body_max": 200})]})
    assert push(call, service, 1)["ErrorCode"] == 0  # a body of well under 200 bytes
    assert push(call, service, 2, From_Account="x" * 200)["ErrorCode"] == 90056
    seeded({"apps": [app_entry(limits={"push_body_max": None})]})  # null: no cap
    big = [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "x" * 11000}}]
    assert push(call, service, 3, MsgBody=big)["ErrorCode"] == 0


def test_cli_unknown_app(service: Service) -> None:
    out = CliRunner().invoke(main, ["pushes", "--app", "nope", "--db", service.store.url])
    assert out.exit_code != 0 and "no app" in out.output
