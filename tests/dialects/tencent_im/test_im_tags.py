"""Tag and attribute APIs: limits (each one changes nothing), order, unknown accounts, bad bodies."""

from __future__ import annotations

from typing import Any

import pytest

from tests.dialects.tencent_im.conftest import Caller, app_entry

P = "all_member_push"


def tags_of(call: Caller, *accounts: str) -> list[list[str]]:
    r = call(f"{P}/im_get_tag", {"To_Account": list(accounts)})
    assert [u["To_Account"] for u in r["UserTags"]] == list(accounts)
    return [u["Tags"] for u in r["UserTags"]]


def add(call: Caller, *items: tuple[str, list[str]]) -> dict[str, Any]:
    return call(f"{P}/im_add_tag", {"UserTags": [{"To_Account": a, "Tags": t} for a, t in items]})


def test_stable_order_is_tag_creation_order(call: Caller) -> None:
    add(call, ("xiaojun012", ["b", "a"]), ("xiaojun013", ["c", "a"]))
    add(call, ("xiaojun013", ["b"]))
    assert tags_of(call, "xiaojun013", "xiaojun012") == [["b", "a", "c"], ["b", "a"]]
    assert tags_of(call, "xiaojun013") == [["b", "a", "c"]]


def test_remove_and_remove_all(call: Caller) -> None:
    add(call, ("xiaojun012", ["a", "b", "c"]), ("xiaojun013", ["a"]))
    call(f"{P}/im_remove_tag", {"UserTags": [{"To_Account": "xiaojun012", "Tags": ["a", "zz"]}]})
    assert tags_of(call, "xiaojun012", "xiaojun013") == [["b", "c"], ["a"]]
    call(f"{P}/im_remove_all_tags", {"To_Account": ["xiaojun012"]})
    assert tags_of(call, "xiaojun012", "xiaojun013") == [[], ["a"]]


def test_never_imported_accounts(call: Caller) -> None:
    """Reads answer empty; writes fail as a whole with 70107 and change nothing."""
    assert tags_of(call, "ghost") == [[]]
    r = add(call, ("xiaojun012", ["a"]), ("ghost", ["a"]))
    assert r == {"ActionStatus": "FAIL", "ErrorInfo": "Err_TLS_PT_Open_Login_Account_Not_Exist", "ErrorCode": 70107}
    assert tags_of(call, "xiaojun012") == [[]]
    assert call(f"{P}/im_remove_all_tags", {"To_Account": ["ghost"]})["ErrorCode"] == 70107
    assert call(f"{P}/im_remove_tag", {"UserTags": [{"To_Account": "ghost", "Tags": ["a"]}]})["ErrorCode"] == 70107


def test_100_accounts_per_request_90018(seeded: Any, call: Caller) -> None:
    many = [f"u{i}" for i in range(101)]
    seeded({"apps": [app_entry(accounts=many)]})
    assert call(f"{P}/im_get_tag", {"To_Account": many[:100]})["ErrorCode"] == 0
    for path, body in [
        ("im_add_tag", {"UserTags": [{"To_Account": a, "Tags": ["t"]} for a in many]}),
        ("im_remove_tag", {"UserTags": [{"To_Account": a, "Tags": ["t"]} for a in many]}),
        ("im_get_tag", {"To_Account": many}), ("im_remove_all_tags", {"To_Account": many}),
        ("im_get_attr", {"To_Account": many}),
        ("im_set_attr", {"UserAttrs": [{"To_Account": a, "Attrs": {}} for a in many]}),
        ("im_remove_attr", {"UserAttrs": [{"To_Account": a, "Attrs": []} for a in many]}),
    ]:
        r = call(f"{P}/{path}", body)
        assert (r["ErrorCode"], r["ErrorInfo"]) == (90018, "The number of requested accounts exceeds the limit."), path


def test_10_tags_per_user_per_request_90032(call: Caller) -> None:
    r = add(call, ("xiaojun012", ["ok"]), ("xiaojun013", [str(i) for i in range(11)]))
    assert r["ErrorCode"] == 90032
    assert tags_of(call, "xiaojun012") == [[]]
    assert add(call, ("xiaojun013", [str(i) for i in range(10)]))["ErrorCode"] == 0


def test_100_tags_per_user_90032(call: Caller) -> None:
    for n in range(10):
        assert add(call, ("xiaojun012", [f"t{n}-{i}" for i in range(10)]))["ErrorCode"] == 0
    r = add(call, ("xiaojun013", ["x"]), ("xiaojun012", ["one-more"]))
    assert r["ErrorCode"] == 90032
    assert len(tags_of(call, "xiaojun012")[0]) == 100 and tags_of(call, "xiaojun013") == [[]]
    assert add(call, ("xiaojun012", ["t0-0"]))["ErrorCode"] == 0  # already held: no new tag


def test_1000_distinct_tags_per_app_90032(seeded: Any, call: Caller) -> None:
    seeded({"apps": [app_entry(accounts=[f"u{i}" for i in range(100)])]})
    r = add(call, *[(f"u{i}", [f"{i}-{j}" for j in range(10)]) for i in range(100)])
    assert r["ErrorCode"] == 0
    assert add(call, ("u0", ["brand-new"]))["ErrorCode"] == 90032
    assert add(call, ("u1", ["0-0"]))["ErrorCode"] == 0  # an existing tag is not a new one
    call(f"{P}/im_remove_all_tags", {"To_Account": ["u0"]})  # frees ten tags nobody else holds
    assert add(call, ("u0", ["brand-new"]))["ErrorCode"] == 0


@pytest.mark.parametrize(("tag", "want"), [("x" * 50, 0), ("好" * 16, 0), ("x" * 51, 90020), ("好" * 17, 90020),
                                           ("", 90040), ("  ", 90040)])
def test_tag_length_in_bytes(call: Caller, tag: str, want: int) -> None:
    assert add(call, ("xiaojun012", ["first", tag]))["ErrorCode"] == want
    assert tags_of(call, "xiaojun012") == [["first", tag] if want == 0 else []]


def test_attributes(call: Caller) -> None:
    r = call(f"{P}/im_set_attr_name", {"AttrNames": {"0": "sex", "1": "city", "2": "会员等级"}})
    assert r["ErrorCode"] == 0
    r = call(f"{P}/im_get_attr_name", {})
    assert r == {"ActionStatus": "OK", "ErrorInfo": "", "ErrorCode": 0,
                 "AttrNames": {"0": "sex", "1": "city", "2": "会员等级"}}
    call(f"{P}/im_set_attr", {"UserAttrs": [{"To_Account": "xiaojun012", "Attrs": {"sex": "女", "city": "纽约"}}]})
    call(f"{P}/im_remove_attr", {"UserAttrs": [{"To_Account": "xiaojun012", "Attrs": ["city"]}]})
    r = call(f"{P}/im_get_attr", {"To_Account": ["xiaojun012", "abc"]})
    assert r["UserAttrs"] == [{"To_Account": "xiaojun012", "Attrs": {"sex": "女"}}, {"To_Account": "abc", "Attrs": {}}]
    call(f"{P}/im_set_attr_name", {"AttrNames": {"0": "gender"}})  # a renamed slot keeps its values
    assert call(f"{P}/im_get_attr", {"To_Account": ["xiaojun012"]})["UserAttrs"][0]["Attrs"] == {"gender": "女"}


@pytest.mark.parametrize(("path", "body"), [
    ("im_set_attr_name", {"AttrNames": {"10": "x"}}),
    ("im_set_attr_name", {"AttrNames": {"01": "x"}}),
    ("im_set_attr_name", {"AttrNames": {"a": "x"}}),
    ("im_set_attr_name", {"AttrNames": {"1" * 5000: "x"}}),  # int() refuses past 4,300 digits
    ("im_set_attr_name", {"AttrNames": {"²": "x"}}),  # a digit to str.isdigit, not to int()
    ("im_set_attr_name", {"AttrNames": {"１": "x"}}),  # full-width: int() would take it as 1
    ("im_set_attr_name", {"AttrNames": {"3": "x" * 51}}),
    ("im_set_attr_name", {"AttrNames": {"3": ""}}),
    ("im_set_attr_name", {"AttrNames": {"3": "sex"}}),
    ("im_set_attr", {"UserAttrs": [{"To_Account": "xiaojun012", "Attrs": {"height": "1"}}]}),
    ("im_set_attr", {"UserAttrs": [{"To_Account": "xiaojun012", "Attrs": {"sex": "x" * 51}}]}),
    ("im_remove_attr", {"UserAttrs": [{"To_Account": "xiaojun012", "Attrs": ["height"]}]}),
])
def test_invalid_attribute_90033(call: Caller, path: str, body: Any) -> None:
    call(f"{P}/im_set_attr_name", {"AttrNames": {"0": "sex"}})
    r = call(f"{P}/{path}", body)
    assert (r["ErrorCode"], r["ErrorInfo"]) == (90033, "Invalid attribute.")
    assert call(f"{P}/im_get_attr_name", {})["AttrNames"] == {"0": "sex"}


ENDPOINTS = ["im_add_tag", "im_get_tag", "im_remove_tag", "im_remove_all_tags", "im_set_attr_name",
             "im_get_attr_name", "im_set_attr", "im_get_attr", "im_remove_attr", "im_push"]
BAD_BODIES: list[bytes] = [b"", b"{", b"[]", b'"x"', b"null", b"1", b"\xff\xfe", b'{"To_Account": "a"}',
                           b'{"UserTags": {"To_Account": "a"}}', b'{"UserTags": [{"To_Account": 1, "Tags": []}]}',
                           b'{"UserTags": [{"To_Account": "xiaojun012", "Tags": [1]}]}', b'{"AttrNames": []}',
                           b'{"UserAttrs": [{"To_Account": "xiaojun012", "Attrs": {"a": {}}}]}',
                           b'{"To_Account": [null]}', b"[" * 100_000]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_bad_bodies_never_500(call: Caller, path: str) -> None:
    documented = {0, 90001, 90005, 90033, 90056}
    for raw in BAD_BODIES:
        r = call(f"{P}/{path}", raw=raw)
        assert r["ErrorCode"] in documented, (path, raw[:40], r)
    assert call(f"{P}/{path}", raw=b"{")["ErrorInfo"] == "Fail to Parse json data of body, Please check it"
