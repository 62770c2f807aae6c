"""WeChat mass messaging rules in-process: who each send reaches, the send cap on the service clock,
clientmsgid de-duplication, list sizes and per-app ids (reset: tests/control/test_sends.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from polytag.core.sends import period_start, sends
from polytag.core.service import Service
from tests.dialects.wechat.conftest import MAIN, call, get_token

F = [f"oMassFollower{i:015d}" for i in range(6)]
TXT = {"msgtype": "text", "text": {"content": "hello"}}
EPOCH = 1_717_171_200.0  # 2024-05-31 16:00 UTC: midnight starting June 1 in UTC+8


def seed(limits: dict[str, Any] | None = None, followers: list[str] = F) -> dict[str, Any]:
    entry: dict[str, Any] = {"dialect": "wechat", **MAIN, "followers": followers, "tags": [{"name": "vip"}]}
    if limits is not None:
        entry["limits"] = limits
    return {"apps": [entry]}


@pytest.fixture
def wx(client: TestClient, service: Service,
       seeded: Callable[[dict[str, Any]], Any]) -> Callable[..., dict[str, Any]]:
    """A caller on a fresh MAIN app (six followers, tag 100 `vip`), the clock at EPOCH; each call
    takes a token valid at the clock's time (tests move it by days)."""
    seeded(seed())
    service.clock.set(EPOCH)

    def wx_call(path: str, body: Any = None) -> dict[str, Any]:
        return call(client, path, get_token(client, MAIN), body)

    return wx_call


def recorded(service: Service) -> list[list[str]]:
    return [r.audience for r in sends(service).log(service.apps.get(MAIN["appid"]))]


def test_tag_send_reaches_tagged_followers_not_blacklisted(wx: Callable[..., Any], service: Service) -> None:
    assert wx("tags/members/batchtagging", {"openid_list": F[:4], "tagid": 100})["errcode"] == 0
    assert wx("tags/members/batchblacklist", {"openid_list": [F[1], F[5]]})["errcode"] == 0
    assert wx("message/mass/sendall", {"filter": {"is_to_all": False, "tag_id": 100}, **TXT})["errcode"] == 0
    assert wx("message/mass/sendall", {"filter": {"is_to_all": True}, **TXT})["errcode"] == 0
    assert wx("message/mass/send", {"touser": [F[0], F[1], F[4], "oNobody", F[0]], **TXT})["errcode"] == 0
    assert recorded(service) == [[F[0], F[2], F[3]], [F[0], F[2], F[3], F[4]], [F[0], F[4]]]


def test_audience_is_taken_at_send_time(wx: Callable[..., Any], service: Service) -> None:
    wx("tags/members/batchtagging", {"openid_list": F[:2], "tagid": 100})
    wx("message/mass/sendall", {"filter": {"is_to_all": False, "tag_id": 100}, **TXT})
    wx("tags/members/batchuntagging", {"openid_list": [F[0]], "tagid": 100})
    wx("tags/members/batchtagging", {"openid_list": [F[3]], "tagid": 100})
    wx("message/mass/sendall", {"filter": {"is_to_all": False, "tag_id": 100}, **TXT})
    assert recorded(service) == [[F[0], F[1]], [F[1], F[3]]]


def test_four_sends_a_calendar_month_on_the_service_clock(wx: Callable[..., Any], service: Service) -> None:
    for _ in range(4):
        assert wx("message/mass/sendall", {"filter": {"is_to_all": True}, **TXT})["errcode"] == 0
    assert wx("message/mass/sendall", {"filter": {"is_to_all": True}, **TXT})["errcode"] == 45028
    assert wx("message/mass/send", {"touser": F[:2], **TXT})["errcode"] == 45028
    assert wx("message/mass/preview", {"touser": F[0], **TXT})["errcode"] == 0  # previews are not counted
    service.clock.set(EPOCH + 28 * 86400)  # June 29: still June
    assert wx("message/mass/sendall", {"filter": {"is_to_all": True}, **TXT})["errcode"] == 45028
    service.clock.set(EPOCH + 30 * 86400)  # July 1, midnight local
    assert wx("message/mass/sendall", {"filter": {"is_to_all": True}, **TXT})["errcode"] == 0


def test_a_subscription_account_sends_once_a_day(client: TestClient, service: Service,
                                                 seeded: Callable[[dict[str, Any]], Any]) -> None:
    seeded(seed({"sends_per_period": 1, "send_period": "day"}))
    service.clock.set(EPOCH)
    body = {"filter": {"is_to_all": True}, **TXT}

    def sendall() -> int:
        return int(call(client, "message/mass/sendall", get_token(client, MAIN), body)["errcode"])

    assert (sendall(), sendall()) == (0, 45028)
    service.clock.set(EPOCH + 86400 - 1)  # 23:59:59 local
    assert sendall() == 45028
    service.clock.set(EPOCH + 86400)  # midnight UTC+8
    assert sendall() == 0


def test_no_cap_when_the_app_says_none(client: TestClient, service: Service,
                                      seeded: Callable[[dict[str, Any]], Any]) -> None:
    seeded(seed({"sends_per_period": None}))
    token = get_token(client, MAIN)
    for _ in range(6):
        assert call(client, "message/mass/sendall", token, {"filter": {"is_to_all": True}, **TXT})["errcode"] == 0


def test_period_start_is_calendar_time_in_utc8() -> None:
    assert period_start(EPOCH + 3600, "day") == EPOCH
    assert period_start(EPOCH + 20 * 86400, "month") == EPOCH
    assert period_start(EPOCH - 1, "month") == EPOCH - 31 * 86400  # May 1 local
    assert period_start(EPOCH - 1, "day") == EPOCH - 86400


def test_clientmsgid_repeat_quick_then_within_a_day_then_free(wx: Callable[..., Any], service: Service) -> None:
    body = {"filter": {"is_to_all": True}, **TXT, "clientmsgid": "campaign-7"}
    first = wx("message/mass/sendall", body)
    assert first["errcode"] == 0
    assert wx("message/mass/sendall", body)["errcode"] == 45066
    service.clock.set(EPOCH + 3600)
    again = wx("message/mass/sendall", body)
    assert (again["errcode"], again["msg_id"]) == (45065, first["msg_id"])
    assert wx("message/mass/send", {**body, "touser": F[:2]})["errcode"] == 45065  # one key space for both
    service.clock.set(EPOCH + 86400 + 1)
    assert wx("message/mass/sendall", body)["errcode"] == 0
    assert len(recorded(service)) == 2


def test_clientmsgid_length_in_bytes(wx: Callable[..., Any]) -> None:
    base = {"filter": {"is_to_all": True}, **TXT}
    assert wx("message/mass/sendall", {**base, "clientmsgid": "键" * 22})["errcode"] == 45067  # 66 bytes
    assert wx("message/mass/sendall", {**base, "clientmsgid": "键" * 21})["errcode"] == 0      # 63 bytes


def test_send_list_size_two_to_ten_thousand(client: TestClient, service: Service,
                                            seeded: Callable[[dict[str, Any]], Any]) -> None:
    seeded(seed({"sends_per_period": None}, followers={"generate": 10_001}))  # type: ignore[arg-type]
    token = get_token(client, MAIN)
    app = service.apps.get(MAIN["appid"])
    everyone = service.subjects_page(app, None, 20_000).items
    assert call(client, "message/mass/send", token, {"touser": everyone, **TXT})["errcode"] == 40130
    ok = call(client, "message/mass/send", token, {"touser": everyone[:10_000], **TXT})
    assert ok["errcode"] == 0
    assert len(recorded(service)[-1]) == 10_000
    assert call(client, "message/mass/send", token, {"touser": everyone[:2], **TXT})["errcode"] == 0


def test_unknown_tag_and_tag_zero(wx: Callable[..., Any]) -> None:
    assert wx("message/mass/sendall", {"filter": {"is_to_all": False, "tag_id": 101}, **TXT})["errcode"] == 40152
    assert wx("message/mass/sendall", {"filter": {"tag_id": "100"}, **TXT})["errcode"] == 0  # digits as text
    assert wx("message/mass/sendall", {"filter": {"tag_id": 2**70}, **TXT})["errcode"] == 47001


def test_get_and_delete_are_per_app(client: TestClient, service: Service,
                                    seeded: Callable[[dict[str, Any]], Any]) -> None:
    other = {"appid": "wx00000000000000c9", "secret": "other-secret"}
    seeded({"apps": [*seed()["apps"], {"dialect": "wechat", **other, "followers": ["oOther000000000000000000001"]}]})
    mine, theirs = get_token(client, MAIN), get_token(client, other)
    sent = call(client, "message/mass/sendall", mine, {"filter": {"is_to_all": True}, **TXT})
    assert call(client, "message/mass/get", theirs, {"msg_id": sent["msg_id"]})["errcode"] == 40059
    assert call(client, "message/mass/delete", theirs, {"msg_id": sent["msg_id"]})["errcode"] == 40059
    assert call(client, "message/mass/get", mine, {"msg_id": str(sent["msg_id"])})["msg_status"] == "SEND_SUCCESS"
    assert call(client, "message/mass/delete", mine, {"msg_id": sent["msg_id"], "article_idx": -1})["errcode"] == 47001

