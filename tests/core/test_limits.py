"""Limits are typed in one place: every key has a spec, overrides are checked against it (an
unknown key or a value of the wrong type or range is refused, naming the key), tables merge
into the preset except one holding "*", and every dialect's preset is a valid `Limits`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from polytag import seed
from polytag.core.limits import NATIVE, SPECS, Limits, check_limits, limit_keys
from polytag.core.service import Service
from polytag.dialects import discover
from polytag.errors import Invalid

Seeded = Callable[[dict[str, Any]], list[Any]]

GOOD = {
    "tags_per_app": None, "tags_per_subject": 0, "tag_name_max": 1, "tag_name_unit": "bytes",
    "page_size": 5, "tag_delete_max_members": 3, "batch": {"tagging": 1}, "daily_quotas": {"*": 0},
    "rate_limits": {"x": 7}, "remark_max": 30, "token_refresh_per_day": 1, "token_refresh_gap": 2.5, "max_accounts": None, "account_id_max_bytes": 32,
    "profile_max_bytes": 500, "reimport_cooldown": 0.5, "attr_slots": 0, "attr_max_bytes": 1,
    "push_enabled": False, "push_per_day": 0, "push_min_interval": 0, "push_body_max": None,
    "sends_per_period": 1, "send_period": "month", "send_list_min": 2, "send_key_max": 64,
}

BAD = [
    ("tags_per_app", -1, "must be an integer >= 0, or null for unlimited"),
    ("tags_per_app", True, "must be an integer >= 0"),
    ("tag_name_max", 0, "must be an integer >= 1"),
    ("tag_name_max", None, "must be an integer >= 1"),
    ("page_size", 2**31, "(at most 2147483647)"),
    ("tag_name_unit", "furlongs", "must be \"bytes\" or \"chars\""),
    ("tag_name_unit", 1, "must be \"bytes\" or \"chars\""),
    ("push_enabled", 1, "must be true or false"),
    ("push_enabled", "yes", "must be true or false"),
    ("send_period", "week", "must be \"day\" or \"month\""),
    ("send_period", ["day"], "must be \"day\" or \"month\""),
    ("reimport_cooldown", -1, "must be a number of seconds >= 0"),
    ("reimport_cooldown", float("inf"), "must be a number of seconds >= 0"),
    ("reimport_cooldown", "90d", "must be a number of seconds >= 0"),
    ("attr_slots", -1, "must be an integer >= 0"),
    ("batch", {"tagging": 0}, "limit 'batch.tagging' must be an integer >= 1"),
    ("batch", [1], "limit 'batch' must be an object of integers"),
    ("daily_quotas", {"token": -1}, "limit 'daily_quotas.token' must be an integer >= 0"),
    ("rate_limits", {"*": 1.5}, "limit 'rate_limits.*' must be an integer >= 0"),
]


def test_every_field_of_limits_has_a_spec_and_every_good_value_is_kept() -> None:
    assert sorted(GOOD) == limit_keys() == sorted(SPECS)
    assert check_limits(GOOD) == {**GOOD, "reimport_cooldown": 0.5, "push_min_interval": 0.0}
    limits = Limits().with_overrides(GOOD)
    assert limits.to_dict() == {**GOOD, "push_min_interval": 0.0}


@pytest.mark.parametrize(("key", "value", "message"), BAD)
def test_a_value_of_the_wrong_type_or_range_is_refused_naming_the_key(key: str, value: Any, message: str) -> None:
    with pytest.raises(Invalid) as info:
        Limits().with_overrides({key: value})
    assert info.value.field == "limits" and f"limit '{key}" in info.value.detail and message in info.value.detail


@pytest.mark.parametrize("overrides", [{"bogus": 1}, {"tag_name_max": 5, "daily_quota": {}}, {1: 2}])
def test_an_unknown_key_is_refused_never_dropped(overrides: dict[Any, Any]) -> None:
    with pytest.raises(Invalid) as info:
        NATIVE.with_overrides(overrides)
    assert info.value.reason == "unknown_key" and "valid keys are account_id_max_bytes," in info.value.detail


def test_a_stored_override_that_is_not_valid_is_skipped_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, "polytag.limits"):
        limits = NATIVE.with_overrides({"bogus": 1, "page_size": 0, "tag_name_max": 7}, strict=False)
    assert limits == NATIVE.with_overrides({"tag_name_max": 7})
    assert "bogus" in caplog.text and "page_size" in caplog.text


def test_tables_merge_unless_the_override_holds_a_star() -> None:
    preset = Limits(batch={"a": 1, "b": 2}, daily_quotas={"token": 5, "*": 10}, rate_limits={"*": 3, "x": 4})
    merged = preset.with_overrides({"batch": {"b": 9}, "daily_quotas": {"user/get": 2}, "rate_limits": {"*": 0}})
    assert merged.batch == {"a": 1, "b": 9}
    assert merged.daily_quotas == {"token": 5, "*": 10, "user/get": 2}
    assert merged.rate_limits == {"*": 0}  # "*" decides every API the override does not name
    assert merged.per_api(merged.daily_quotas, "token") == 5
    assert merged.per_api(merged.daily_quotas, "other") == 10
    assert merged.per_api(merged.rate_limits, "x") is None  # 0 = unlimited


def test_every_dialect_preset_is_valid_limits() -> None:
    for name, dialect in discover().items():
        overrides = {k: v for k, v in dialect.limits.to_dict().items()}
        assert Limits().with_overrides(overrides) == dialect.limits, name


def test_seed_refuses_an_unknown_limit_key_for_every_dialect() -> None:
    entries = [{"dialect": "wechat", "appid": "wx1", "secret": "s"},
               {"dialect": "tencent_im", "sdkappid": 1400000001, "key": "k"},
               {"dialect": "juzibot", "name": "bot", "token": "t"}, {"dialect": "native", "name": "n"}]
    for entry in entries:
        with pytest.raises(seed.SeedError, match="unknown limit 'bogus'"):
            seed.validate({"apps": [{**entry, "limits": {"bogus": 1}}]})


@pytest.mark.parametrize("extra", [{"rate_limits": {"*": "fast"}}, {"push_per_day": -2},
                                   {"limits": {"nope": 1}}, {"limits": 5}])
def test_im_seed_checks_its_top_level_limits_too(service: Service, seeded: Seeded, extra: dict[str, Any]) -> None:
    entry = {"dialect": "tencent_im", "sdkappid": 1400000002, "key": "k", **extra}
    with pytest.raises(seed.SeedError, match="limit"):
        seeded({"apps": [entry]})
    assert service.apps.list() == []


def test_im_seed_top_level_limits_become_the_apps_typed_limits(service: Service, seeded: Seeded) -> None:
    (app,) = seeded({"apps": [{"dialect": "tencent_im", "sdkappid": 1400000003, "key": "k", "max_accounts": 4,
                               "rate_limits": {"*": 0}, "limits": {"push_per_day": 2}}]})
    app = service.apps.get(app.name)
    assert (app.limits.max_accounts, app.limits.push_per_day, app.limits.rate_limits) == (4, 2, {"*": 0})
    assert app.limits.attr_slots == 10 and app.limits.push_body_max == 10 * 1024  # the rest: the preset


def test_limits_an_older_version_stored_at_the_configs_top_level_still_apply() -> None:
    from polytag.core.apps import stored_limits

    assert stored_limits({"rate_limits": {"*": 0}, "limits": {"max_accounts": 3}, "admins": ["a"]}) == {
        "rate_limits": {"*": 0}, "max_accounts": 3}
    assert stored_limits({"max_accounts": 3, "limits": {"max_accounts": 4}}) == {"max_accounts": 4}
    assert stored_limits({"limits": {"page_size": 2}}) == {"page_size": 2}
    assert stored_limits({"max_accounts": 3, "limits": 5}) == 5  # not an object: skipped with a warning
