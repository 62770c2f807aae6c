"""v4/timpush/*: one state with all_member_push, Replace, TagsNot audiences, AttrTypes, the random range."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from polytag.core.service import Service
from tests.dialects.tencent_im.conftest import ACCOUNTS, Caller, query
from tests.dialects.tencent_im.test_im_push import pushes_log

TAGS = {"xiaojun012": ["a", "b"], "xiaojun013": ["a", "c"], "xiaojun014": ["c"]}


@pytest.fixture
def tagged(call: Caller) -> Caller:
    call("timpush/add_tag", {"UserTags": [{"To_Account": a, "Tags": t} for a, t in TAGS.items()]})
    return call


def test_one_state_with_all_member_push(tagged: Caller) -> None:
    got = tagged("all_member_push/im_get_tag", {"To_Account": ACCOUNTS})["UserTags"]
    assert {u["To_Account"]: u["Tags"] for u in got} == TAGS
    tagged("all_member_push/im_set_attr_name", {"AttrNames": {"0": "city"}})
    assert tagged("timpush/get_attr_name", {})["AttrNames"] == {"0": "city"}
    tagged("all_member_push/im_remove_all_tags", {"To_Account": ["xiaojun014"]})
    assert tagged("timpush/get_tag", {"To_Account": ["xiaojun014"]})["UserTags"] == [
        {"To_Account": "xiaojun014", "Tags": []}]


def test_replace_overwrites_and_drops_tags_nobody_holds(tagged: Caller, service: Service, im_app: Any) -> None:
    tagged("timpush/add_tag", {"Replace": 1, "UserTags": [{"To_Account": "xiaojun012", "Tags": ["d"]}]})
    got = tagged("timpush/get_tag", {"To_Account": ["xiaojun012", "xiaojun013"]})["UserTags"]
    assert got == [{"To_Account": "xiaojun012", "Tags": ["d"]}, {"To_Account": "xiaojun013", "Tags": ["a", "c"]}]
    assert sorted(t.ext_id for t in service.tags.all(im_app)) == ["a", "c", "d"]  # "b" is gone


def test_replace_is_all_or_nothing(tagged: Caller) -> None:
    r = tagged("timpush/add_tag", {"Replace": 1, "UserTags": [
        {"To_Account": "xiaojun012", "Tags": ["x"]}, {"To_Account": "never-imported", "Tags": ["y"]}]})
    assert r["ErrorCode"] == 70107
    assert tagged("timpush/get_tag", {"To_Account": ["xiaojun012"]})["UserTags"][0]["Tags"] == ["a", "b"]


def _expected(tags_or: list[str], tags_not: list[str]) -> list[str]:
    """The doc's sample: (any of TagsOr) and not (all of TagsNot)."""
    return [a for a, held in TAGS.items()
            if (not tags_or or set(tags_or) & set(held)) and not (tags_not and set(tags_not) <= set(held))]


@pytest.mark.parametrize(("tags_or", "tags_not"), [
    (or_, not_) for or_, not_ in itertools.product([[], ["a"], ["b", "c"]], [["a"], ["c"], ["a", "c"], ["b", "x"]])
])
def test_tags_not_audience(tagged: Caller, service: Service, tags_or: list[str], tags_not: list[str]) -> None:
    cond: dict[str, Any] = {"TagsNot": tags_not, **({"TagsOr": tags_or} if tags_or else {})}
    r = tagged("timpush/push", {"MsgRandom": 1, "Condition": cond})
    assert r["ErrorCode"] == 0, r
    (logged,) = pushes_log(service)
    assert logged["audience"] == _expected(tags_or, tags_not)
    assert logged["Condition"] == cond


def test_tags_not_counts_toward_the_ten_condition_tags(tagged: Caller) -> None:
    cond = {"TagsOr": [f"o{i}" for i in range(6)], "TagsNot": [f"n{i}" for i in range(5)]}
    assert tagged("timpush/push", {"MsgRandom": 1, "Condition": cond})["ErrorCode"] == 90032


@pytest.mark.parametrize("random", ["1764770000123456789", "-1", "0", "4294967296"])
def test_random_takes_64_bit_integers(tagged: Caller, random: str) -> None:
    r = tagged("timpush/get_tag", {"To_Account": ["xiaojun012"]}, params={**query(), "random": random})
    assert r["ErrorCode"] == 0


@pytest.mark.parametrize("random", ["", "x", "1.5", "+1", " 1", "١٢", "99999999999999999999999", "-9223372036854775809"])
def test_random_refuses_other_text(tagged: Caller, random: str) -> None:
    r = tagged("timpush/get_tag", {"To_Account": ["xiaojun012"]}, params={**query(), "random": random})
    assert r["ErrorCode"] == 60002


@pytest.mark.parametrize("value", [42, 4.5, True, None, ["x"], {"x": "y"}])
def test_attribute_values_are_strings(tagged: Caller, value: Any) -> None:
    tagged("timpush/set_attr_name", {"AttrNames": {"0": "city"}})
    r = tagged("timpush/set_attr", {"UserAttrs": [{"To_Account": "xiaojun012", "Attrs": {"city": value}}]})
    assert r["ErrorCode"] == 90001
    assert tagged("timpush/get_attr", {"To_Account": ["xiaojun012"]})["UserAttrs"][0]["Attrs"] == {}
