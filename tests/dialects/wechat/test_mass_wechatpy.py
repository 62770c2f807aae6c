"""wechatpy 1.8.18's mass calls, unmodified, against a live server: `send_mass_*` by tag (wechatpy
sends the old `group_id` key), by openid list and to all, previews, `get_mass`, `delete_mass`, and
the vendor's codes as WeChatClientException; who each send reached, read from the send log."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from polytag.core.sends import sends
from polytag.core.service import Service
from tests.dialects.wechat.test_wechatpy import local_client

APPID, SECRET = "wx00000000000000d1", "mass-secret"
CAPPED = "wx00000000000000d2"
FANS = [f"oMassWechatpyFan{i:012d}" for i in range(5)]  # 28 characters: wechatpy's openid shape
SEED = {"apps": [
    {"dialect": "wechat", "appid": APPID, "secret": SECRET, "followers": FANS, "tags": [{"name": "买家"}],
     "limits": {"sends_per_period": None}},
    {"dialect": "wechat", "appid": CAPPED, "secret": SECRET, "followers": FANS[:2],
     "limits": {"sends_per_period": 1, "send_period": "day"}},
]}


@pytest.fixture
def server(seeded: Callable[[dict[str, Any]], list[Any]], live_server: Callable[..., Any]) -> Any:
    seeded(SEED)
    return live_server()


@pytest.fixture
def wx(server: Any) -> Iterator[WeChatClient]:
    client = local_client(server.url, APPID, SECRET)
    yield client
    client._http.close()


def audiences(service: Service, appid: str = APPID) -> list[list[str]]:
    return [r.audience for r in sends(service).log(service.apps.get(appid))]


def errcode(call: Callable[[], Any]) -> int | None:
    with pytest.raises(WeChatClientException) as info:
        call()
    return info.value.errcode


def test_send_by_tag_list_and_to_all(wx: WeChatClient, service: Service) -> None:
    tag = wx.tag.create("新客")
    wx.tag.tag_user(tag["id"], FANS[1:4])
    wx.tag.batch_black_list([FANS[3]])  # blacklisted: reached by nothing
    by_tag = wx.message.send_mass_text(tag["id"], "你好")
    assert by_tag["errcode"] == 0 and by_tag["errmsg"] == "send job submission success"
    assert "msg_data_id" not in wx.message.send_mass_text([FANS[0], FANS[3], FANS[4]], "hi", client_msg_id="list-1")
    to_all = wx.message.send_mass_article(None, "media-1", is_to_all=True, send_ignore_reprint=1)
    assert to_all["msg_data_id"] > 0
    assert audiences(service) == [FANS[1:3], [FANS[0], FANS[4]], [FANS[0], FANS[1], FANS[2], FANS[4]]]
    log = sends(service).log(service.apps.get(APPID))
    assert [r.kind for r in log] == ["tag", "list", "all"]
    assert [r.dedupe_key for r in log] == ["", "list-1", ""]
    assert log[2].message.options == {"send_ignore_reprint": 1}


def test_every_message_type(wx: WeChatClient, service: Service) -> None:
    calls = [
        lambda: wx.message.send_mass_image(FANS[:2], "img-1"),
        lambda: wx.message.send_mass_voice(FANS[:2], "voice-1"),
        lambda: wx.message.send_mass_video(FANS[:2], "video-1", title="t", description="d"),
        lambda: wx.message.send_mass_article(FANS[:2], "news-1"),
        lambda: wx.message.send_mass_card(FANS[:2], "card-1"),
    ]
    ids = [call()["msg_id"] for call in calls]
    assert len(set(ids)) == 5
    log = sends(service).log(service.apps.get(APPID))
    assert [r.message.msgtype for r in log] == ["image", "voice", "mpvideo", "mpnews", "wxcard"]
    assert log[2].message.content == {"media_id": "video-1", "title": "t", "description": "d"}


def test_get_and_delete(wx: WeChatClient) -> None:
    sent = wx.message.send_mass_text(FANS[:2], "x")
    assert wx.message.get_mass(sent["msg_id"]) == {"msg_id": sent["msg_id"], "msg_status": "SEND_SUCCESS"}
    assert wx.message.delete_mass(sent["msg_id"])["errcode"] == 0
    assert wx.message.get_mass(sent["msg_id"])["msg_status"] == "DELETE"
    assert errcode(lambda: wx.message.get_mass(sent["msg_id"] + 1)) == 40059
    assert errcode(lambda: wx.message.delete_mass("not a number")) == 47001


def test_preview_by_openid_or_wechat_id(wx: WeChatClient, service: Service) -> None:
    assert wx.message.send_mass_text(FANS[2], "p", preview=True)["errmsg"] == "preview success"
    assert wx.message.send_mass_text("some_wechat_id", "p", preview=True)["errcode"] == 0
    assert errcode(lambda: wx.message.send_mass_text("oNotAFollowerOfThisApp000000", "p", preview=True)) == 40003
    assert audiences(service) == [[FANS[2]], []]


def test_codes(wx: WeChatClient, server: Any) -> None:
    assert errcode(lambda: wx.message.send_mass_text(999, "x")) == 40152
    assert errcode(lambda: wx.message.send_mass_text([FANS[0]], "x")) == 40130
    assert errcode(lambda: wx.message.send_mass_text(FANS[:2], "")) == 44004
    assert errcode(lambda: wx.message.send_mass_image(FANS[:2], "")) == 40007
    assert errcode(lambda: wx.message.send_mass_text(FANS[:2], "x", client_msg_id="k" * 65)) == 45067
    wx.message.send_mass_text(FANS[:2], "x", client_msg_id="again")
    assert errcode(lambda: wx.message.send_mass_text(FANS[:2], "x", client_msg_id="again")) == 45066
    capped = local_client(server.url, CAPPED, SECRET)
    try:
        capped.message.send_mass_text(None, "x", is_to_all=True)
        assert errcode(lambda: capped.message.send_mass_text(None, "x", is_to_all=True)) == 45028
    finally:
        capped._http.close()
