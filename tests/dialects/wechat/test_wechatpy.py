"""wechatpy 1.8.18, the vendor's most used Python client, driving every `client.tag` and `client.user`
method against a real server on port 0 (spec A7: a subclass re-points API_BASE_URL and the token fetch)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from polytag.core.ids import generated_ext_ids
from polytag.core.service import Service
from tests.dialects.wechat.conftest import tag_in_bulk

APPID, SECRET = "wx00000000000000b1", "wechatpy-secret"
OTHER_APPID, OTHER_F = "wx00000000000000b2", "oOtherAppFollower00000000002"
N = 25_000
FANS = generated_ext_ids(f"wechat:{APPID}", N)  # what the seed's `followers: {generate: N}` makes
SEED = {"apps": [
    {"dialect": "wechat", "appid": APPID, "secret": SECRET, "followers": {"generate": N},
     "tags": [{"name": "全体粉丝"}]},
    {"dialect": "wechat", "appid": OTHER_APPID, "secret": "x", "followers": [OTHER_F]},
]}


def local_client(base: str, appid: str = APPID, secret: str = SECRET, **kw: Any) -> WeChatClient:
    class LocalWeChatClient(WeChatClient):  # type: ignore[misc]
        API_BASE_URL = base + "/cgi-bin/"

        def fetch_access_token(self) -> dict[str, Any]:
            # 1.8.18 hard-codes https://api.weixin.qq.com/cgi-bin/token; re-point it (spec A7)
            return self._fetch_access_token(  # type: ignore[no-any-return]
                url=base + "/cgi-bin/token",
                params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
            )

    return LocalWeChatClient(appid, secret, **kw)


@pytest.fixture
def wx(service: Service, seeded: Callable[[dict[str, Any]], list[Any]],
       live_server: Callable[..., Any]) -> Iterator[WeChatClient]:
    """A server whose tag 100 holds all 25,000 followers (tagged through the core), and a client on it."""
    seeded(SEED)
    tag_in_bulk(service, APPID, 100, FANS)
    server = live_server()
    client = local_client(server.url)
    yield client
    client._http.close()


def errcode(call: Callable[[], Any]) -> int | None:
    with pytest.raises(WeChatClientException) as info:
        call()
    return info.value.errcode


def test_tag_api(wx: WeChatClient) -> None:
    a, b, c = FANS[:3]
    assert wx.tag.create("广东") == {"id": 101, "name": "广东"}
    assert wx.access_token and wx.expires_at  # fetched from our cgi-bin/token on the first call
    assert errcode(lambda: wx.tag.create("广东")) == 45157
    assert errcode(lambda: wx.tag.create("一二三四五六七八九十一")) == 45158
    assert wx.tag.create("一二三四五六七八九十") == {"id": 102, "name": "一二三四五六七八九十"}
    assert wx.tag.get() == [
        {"id": 2, "name": "星标组", "count": 0}, {"id": 100, "name": "全体粉丝", "count": N},
        {"id": 101, "name": "广东", "count": 0}, {"id": 102, "name": "一二三四五六七八九十", "count": 0},
    ]
    assert wx.tag.update(101, "广东人") == {"errcode": 0, "errmsg": "ok"}
    assert errcode(lambda: wx.tag.update(102, "广东人")) == 45157
    assert [errcode(lambda i=i: wx.tag.update(i, "x")) for i in (0, 1, 2)] == [45058] * 3
    assert errcode(lambda: wx.tag.update(999, "x")) == 45159

    assert wx.tag.tag_user(101, a) == {"errcode": 0, "errmsg": "ok"}  # a single openid is wrapped
    assert wx.tag.tag_user(101, [b, c]) == {"errcode": 0, "errmsg": "ok"}
    assert wx.tag.tag_user(2, a)["errcode"] == 0
    assert wx.tag.get_user_tag(a) == [2, 100, 101]
    assert errcode(lambda: wx.tag.tag_user(101, FANS[3:54])) == 40032
    assert errcode(lambda: wx.tag.tag_user(999, a)) == 45159
    assert errcode(lambda: wx.tag.tag_user(1, a)) == 45159
    assert errcode(lambda: wx.tag.tag_user(101, [FANS[3], "oNoSuchFollower0000000000000"])) == 40003
    assert errcode(lambda: wx.tag.tag_user(101, [FANS[3], OTHER_F])) == 49003
    assert errcode(lambda: wx.tag.get_user_tag(OTHER_F)) == 49003
    assert wx.tag.get_user_tag(FANS[3]) == [100]  # the failed batches changed nothing

    assert wx.tag.get_tag_users(101) == {"count": 3, "data": {"openid": [a, b, c]}, "next_openid": c}
    assert wx.tag.get_tag_users(101, first_user_id=a) == {"count": 2, "data": {"openid": [b, c]}, "next_openid": c}
    assert list(wx.tag.iter_tag_users(101)) == [a, b, c]
    assert list(wx.tag.iter_tag_users(101, first_user_id=b)) == [c]
    everyone = list(wx.tag.iter_tag_users(100))
    assert len(everyone) == N and everyone == FANS  # every follower exactly once, in arrival order
    assert list(wx.tag.iter_tag_users(102)) == []
    assert wx.tag.get_tag_users(102) == {"count": 0}  # an empty tag: wechatpy issue 273's capture
    assert wx.tag.get_tag_users(101, first_user_id=c) == {"count": 0}  # past the last page
    assert errcode(lambda: wx.tag.get_tag_users(999)) == 45159

    assert wx.tag.untag_user(101, a) == {"errcode": 0, "errmsg": "ok"}
    assert wx.tag.untag_user(101, [b]) == {"errcode": 0, "errmsg": "ok"}
    assert wx.tag.get_user_tag(a) == [2, 100]
    assert errcode(lambda: wx.tag.untag_user(101, FANS[:51])) == 40032
    assert wx.tag.delete(101) == {"errcode": 0, "errmsg": "ok"}
    assert wx.tag.delete("102") == {"errcode": 0, "errmsg": "ok"}  # wechatpy does not int-cast here
    assert [errcode(lambda i=i: wx.tag.delete(i)) for i in (0, 1, 2)] == [45058] * 3
    assert errcode(lambda: wx.tag.delete(101)) == 45159
    assert [t["id"] for t in wx.tag.get()] == [2, 100]
    assert wx.tag.get_user_tag(c) == [100]


def test_blacklist_api(wx: WeChatClient) -> None:
    a, b, c = FANS[:3]
    assert wx.tag.get_black_list() == {"total": 0, "count": 0, "next_openid": ""}
    assert wx.tag.batch_black_list([a, c]) == {"errcode": 0, "errmsg": "ok"}
    assert wx.tag.get_black_list() == {"total": 2, "count": 2, "data": {"openid": [a, c]}, "next_openid": c}
    assert wx.tag.get_black_list(begin_openid=a)["data"] == {"openid": [c]}
    assert errcode(lambda: wx.tag.batch_black_list(FANS[:21])) == 40032
    assert errcode(lambda: wx.tag.batch_black_list([b, OTHER_F])) == 49003
    assert errcode(lambda: wx.tag.batch_black_list(["oNoSuchFollower0000000000000"])) == 40003
    assert wx.tag.batch_unblack_list([a]) == {"errcode": 0, "errmsg": "ok"}
    assert wx.tag.get_black_list()["data"] == {"openid": [c]}
    assert errcode(lambda: wx.tag.batch_unblack_list(FANS[:21])) == 40032


def test_user_api(wx: WeChatClient) -> None:
    a, b = FANS[:2]
    user = wx.user.get(a)
    assert (user["subscribe"], user["openid"], user["language"], user["tagid_list"]) == (1, a, "zh_CN", [100])
    assert wx.user.get(b, lang="en")["language"] == "zh_CN"  # the follower's own, whatever `lang` asks
    assert errcode(lambda: wx.user.get("oNoSuchFollower0000000000000")) == 40003

    first = wx.user.get_followers()
    assert (first["total"], first["count"], first["next_openid"]) == (N, 10_000, FANS[9_999])
    assert first["data"]["openid"] == FANS[:10_000]
    second = wx.user.get_followers(first_user_id=FANS[9_999])
    assert second["data"]["openid"] == FANS[10_000:20_000]
    assert wx.user.get_followers(first_user_id=FANS[-1]) == {"total": N, "count": 0, "next_openid": ""}
    followers = list(wx.user.iter_followers())
    assert len(followers) == N and followers == FANS
    assert list(wx.user.iter_followers(first_user_id=FANS[-3])) == FANS[-2:]

    assert wx.user.update_remark(a, "老客户") == {"errcode": 0, "errmsg": "ok"}
    assert wx.user.get(a)["remark"] == "老客户"
    assert errcode(lambda: wx.user.update_remark(a, "备" * 31)) == 47001
    batch = wx.user.get_batch([a, b])  # plain openids are wrapped as {"openid": ...}
    assert [(u["openid"], u["language"], u["remark"]) for u in batch] == [(a, "zh_CN", "老客户"), (b, "zh_CN", "")]
    batch = wx.user.get_batch([{"openid": b, "lang": "en"}, {"openid": a, "lang": "zh_TW"}])
    assert [(u["openid"], u["language"], u["tagid_list"]) for u in batch] == [(b, "zh_CN", [100]), (a, "zh_CN", [100])]
    assert errcode(lambda: wx.user.get_batch([a, {"openid": b}])) == 47001  # a mixed list goes out unwrapped
    assert errcode(lambda: wx.user.get_batch([a] * 101)) == 40032
    # not tag/follower APIs polytag emulates: a clean WeChat envelope, not a crash
    assert errcode(lambda: wx.user.get_group_id(a)) == 40066
    assert errcode(lambda: wx.user.change_openid("wx0000000000000old", [a])) == 40066


def test_token_errors_through_wechatpy(wx: WeChatClient) -> None:
    base = wx.API_BASE_URL.removesuffix("/cgi-bin/")
    stale = local_client(base, access_token="ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", auto_retry=False)
    wrong = local_client(base, secret="wrong")
    nobody = local_client(base, appid="wx0000000000000bad")
    try:
        assert errcode(stale.tag.get) == 40001
        assert errcode(wrong.tag.get) == 40125
        assert errcode(nobody.tag.get) == 40013
        retried = local_client(base, access_token="ABCDEFGHIJKLMNOPQRSTUVWXYZ012345")
        try:  # auto_retry: 40001 makes wechatpy fetch a fresh token from us and try again
            assert [t["id"] for t in retried.tag.get()] == [2, 100]
            assert retried.access_token != "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
        finally:
            retried._http.close()
    finally:
        for c in (stale, wrong, nobody):
            c._http.close()


def test_retired_group_api_and_changeopenid(wx: WeChatClient) -> None:
    """wechatpy still ships `client.group` (retired in 2016, tags replaced groups) and
    `user.change_openid` (account migration only): polytag emulates neither, both answer 40066."""
    a = FANS[0]
    calls = [lambda: wx.group.create("老客户"), lambda: wx.group.get(), lambda: wx.group.get(a),
             lambda: wx.group.update(100, "x"), lambda: wx.group.move_user(a, 100),
             lambda: wx.group.move_user([a, FANS[1]], 100), lambda: wx.group.delete(100),
             lambda: wx.user.get_group_id(a), lambda: wx.user.change_openid("wx00000000000000b9", [a])]
    assert [errcode(c) for c in calls] == [40066] * len(calls)
    assert wx.tag.get_user_tag(a) == [100]  # nothing moved
