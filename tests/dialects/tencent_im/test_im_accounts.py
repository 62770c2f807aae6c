"""Account APIs: import (both batch forms), delete, check, and what deletion does to tags and attributes."""

from __future__ import annotations

from typing import Any

import pytest

from polytag.core.service import Service
from tests.dialects.tencent_im.conftest import Caller, app_entry

SVC = "im_open_login_svc"


def status(call: Caller, *ids: str) -> list[str]:
    r = call(f"{SVC}/account_check", {"CheckItem": [{"UserID": i} for i in ids]})
    return [i["AccountStatus"] for i in r["ResultItem"]]


def test_import_and_check(call: Caller) -> None:
    r = call(f"{SVC}/account_import", {"UserID": "test", "Nick": "test", "FaceUrl": "http://www.qq.com"})
    assert r == {"ActionStatus": "OK", "ErrorCode": 0, "ErrorInfo": ""}
    assert status(call, "test", "never") == ["Imported", "NotImported"]


def test_reimport_updates_and_keeps_tags(call: Caller) -> None:
    call("all_member_push/im_add_tag", {"UserTags": [{"To_Account": "xiaojun012", "Tags": ["a"]}]})
    assert call(f"{SVC}/account_import", {"UserID": "xiaojun012", "Nick": "new"})["ErrorCode"] == 0
    r = call("all_member_push/im_get_tag", {"To_Account": ["xiaojun012"]})
    assert r["UserTags"] == [{"To_Account": "xiaojun012", "Tags": ["a"]}]


@pytest.mark.parametrize("body", [
    {"AccountList": [{"UserID": "u1", "Nick": "n"}, {"UserID": "x" * 33}, {"UserID": "u2"}, {"Nick": "no id"}]},
    {"Accounts": ["u1", "x" * 33, "u2", ""]},
])
def test_multiaccount_import_both_forms(call: Caller, body: dict[str, Any]) -> None:
    r = call(f"{SVC}/multiaccount_import", body)
    assert list(r) == ["ActionStatus", "ErrorCode", "ErrorInfo", "FailAccounts"]
    assert r["ErrorCode"] == 0 and r["FailAccounts"] == ["x" * 33, ""]
    assert status(call, "u1", "u2") == ["Imported", "Imported"]


def test_delete_per_item_results_and_cleanup(call: Caller) -> None:
    call("all_member_push/im_add_tag", {"UserTags": [{"To_Account": "xiaojun012", "Tags": ["only"]},
                                                      {"To_Account": "xiaojun013", "Tags": ["shared"]},
                                                      {"To_Account": "xiaojun014", "Tags": ["shared"]}]})
    call("all_member_push/im_set_attr_name", {"AttrNames": {"0": "sex"}})
    call("all_member_push/im_set_attr", {"UserAttrs": [{"To_Account": "xiaojun012", "Attrs": {"sex": "f"}}]})
    r = call(f"{SVC}/account_delete", {"DeleteItem": [{"UserID": "xiaojun012"}, {"UserID": "UserID_2"}]})
    assert r == {"ActionStatus": "OK", "ErrorCode": 0, "ErrorInfo": "", "ResultItem": [
        {"ResultCode": 0, "ResultInfo": "", "UserID": "xiaojun012"},
        {"ResultCode": 70107, "ResultInfo": "Err_TLS_PT_Open_Login_Account_Not_Exist", "UserID": "UserID_2"}]}
    assert status(call, "xiaojun012") == ["NotImported"]
    got = call("all_member_push/im_get_tag", {"To_Account": ["xiaojun012", "xiaojun013"]})["UserTags"]
    assert got == [{"To_Account": "xiaojun012", "Tags": []}, {"To_Account": "xiaojun013", "Tags": ["shared"]}]
    assert call("all_member_push/im_get_attr", {"To_Account": ["xiaojun012"]})["UserAttrs"][0]["Attrs"] == {}
    # tag APIs refuse a deleted account (70107) and change nothing
    r = call("all_member_push/im_add_tag", {"UserTags": [{"To_Account": "xiaojun013", "Tags": ["z"]},
                                                          {"To_Account": "xiaojun012", "Tags": ["z"]}]})
    assert (r["ErrorCode"], r["ErrorInfo"]) == (70107, "Err_TLS_PT_Open_Login_Account_Not_Exist")
    assert call("all_member_push/im_get_tag", {"To_Account": ["xiaojun013"]})["UserTags"][0]["Tags"] == ["shared"]


def test_reimport_after_delete_70399_until_cooldown(call: Caller, service: Service) -> None:
    call(f"{SVC}/account_delete", {"DeleteItem": [{"UserID": "xiaojun012"}]})
    r = call(f"{SVC}/account_import", {"UserID": "xiaojun012"})
    assert r["ErrorCode"] == 70399
    assert call(f"{SVC}/multiaccount_import", {"Accounts": ["xiaojun012"]})["FailAccounts"] == ["xiaojun012"]
    service.clock.advance(90 * 86400)
    assert call(f"{SVC}/account_import", {"UserID": "xiaojun012"})["ErrorCode"] == 0
    assert status(call, "xiaojun012") == ["Imported"]


def test_reimport_cooldown_is_configurable(seeded: Any, call: Caller) -> None:
    seeded({"apps": [app_entry(reimport_cooldown=0)]})
    call(f"{SVC}/account_delete", {"DeleteItem": [{"UserID": "xiaojun012"}]})
    assert call(f"{SVC}/account_import", {"UserID": "xiaojun012"})["ErrorCode"] == 0


def test_account_limit_70398(seeded: Any, call: Caller) -> None:
    seeded({"apps": [app_entry(max_accounts=4)]})
    assert call(f"{SVC}/account_import", {"UserID": "fourth"})["ErrorCode"] == 0
    assert call(f"{SVC}/account_import", {"UserID": "fifth"})["ErrorCode"] == 70398


@pytest.mark.parametrize(("path", "body", "want"), [
    ("account_import", {"UserID": "x" * 33}, 70402),
    ("account_import", {"UserID": ""}, 70402),
    ("account_import", {"UserID": 12}, 70402),
    ("account_import", {}, 70402),
    ("account_import", {"UserID": "ok", "Nick": "n" * 501}, 40601),
    ("account_import", [], 70402),
    ("multiaccount_import", {"Accounts": [f"u{i}" for i in range(101)]}, 70402),
    ("multiaccount_import", {"Accounts": []}, 70402),
    ("multiaccount_import", {"Accounts": "u1"}, 70402),
    ("account_delete", {"DeleteItem": [{"UserID": f"u{i}"} for i in range(101)]}, 70402),
    ("account_delete", {"DeleteItem": [{"UserID": 5}]}, 70402),
    ("account_check", {"CheckItem": "u1"}, 70402),
    ("account_check", {}, 70402),
])
def test_bad_requests(call: Caller, path: str, body: Any, want: int) -> None:
    r = call(f"{SVC}/{path}", body)
    assert (r["ActionStatus"], r["ErrorCode"]) == ("FAIL", want)
    assert list(r) == ["ActionStatus", "ErrorCode", "ErrorInfo"]


def test_bad_json_on_account_apis_60003(call: Caller) -> None:
    assert call(f"{SVC}/account_import", raw=b'{"UserID":')["ErrorCode"] == 60003
