"""wechatpy 1.8.18's enterprise client, unmodified, driving every corp-tag method and the customer
reads of `client.external_contact` against a real server on port 0 (a subclass re-points
API_BASE_URL and the token fetch, which hard-codes qyapi.weixin.qq.com)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from wechatpy.enterprise import WeChatClient
from wechatpy.exceptions import WeChatClientException

from tests.dialects.wecom.conftest import CUSTOMER, MAIN


def local_client(base: str, corpid: str, secret: str, **kw: Any) -> WeChatClient:
    class LocalWeComClient(WeChatClient):  # type: ignore[misc]
        API_BASE_URL = base + "/cgi-bin/"

        def fetch_access_token(self) -> dict[str, Any]:
            return self._fetch_access_token(  # type: ignore[no-any-return]
                url=base + "/cgi-bin/gettoken", params={"corpid": self.corp_id, "corpsecret": self.secret})

    return LocalWeComClient(corpid, secret, **kw)


@pytest.fixture
def server(live_server: Callable[..., Any]) -> Any:
    return live_server({"apps": [MAIN]})


@pytest.fixture
def we(server: Any) -> Iterator[WeChatClient]:
    client = local_client(server.url, MAIN["corpid"], MAIN["secret"])
    yield client
    client._http.close()


def errcode(call: Callable[[], Any]) -> int | None:
    with pytest.raises(WeChatClientException) as info:
        call()
    return info.value.errcode


def test_corp_tag_api(we: WeChatClient) -> None:
    ec = we.external_contact
    groups = ec.get_corp_tag_list()["tag_group"]
    assert [(g["group_name"], [t["name"] for t in g["tag"]]) for g in groups] == [("客户等级", ["VIP", "普通"])]
    added = ec.add_corp_tag(None, "开发1组", 1, [{"name": "前端", "order": 0}, {"name": "后端", "order": 2}])
    group = added["tag_group"]
    assert (group["group_name"], [t["name"] for t in group["tag"]]) == ("开发1组", ["后端", "前端"])
    back, front = (t["id"] for t in group["tag"])
    assert ec.edit_corp_tag(front, "大前端", 9)["errcode"] == 0
    assert ec.edit_corp_tag(group["group_id"], None, 20)["errcode"] == 0
    groups = ec.get_corp_tag_list()["tag_group"]
    assert [g["group_name"] for g in groups] == ["开发1组", "客户等级"]
    assert [t["name"] for t in groups[0]["tag"]] == ["大前端", "后端"]
    assert [g["group_name"] for g in ec.get_corp_tag_list([back])["tag_group"]] == ["开发1组"]
    assert ec.del_corp_tag(tag_id=[front, back])["errcode"] == 0  # the group goes with its last tag
    assert [g["group_name"] for g in ec.get_corp_tag_list()["tag_group"]] == ["客户等级"]
    assert errcode(lambda: ec.del_corp_tag()) == 40058
    assert errcode(lambda: ec.edit_corp_tag(front, "x", None)) == 40068
    assert errcode(lambda: ec.add_corp_tag(None, "长", 0, [{"name": "字" * 31}])) == 40072


def test_mark_tag_and_the_customer_reads(we: WeChatClient) -> None:
    ec = we.external_contact
    vip, plain = (t["id"] for t in ec.get_corp_tag_list()["tag_group"][0]["tag"])
    assert ec.mark_tag("zhangsan", CUSTOMER, add_tag=[vip, plain])["errcode"] == 0
    assert ec.mark_tag("zhangsan", CUSTOMER, remove_tag=[plain])["errcode"] == 0
    detail = ec.get(CUSTOMER)
    assert detail["external_contact"]["name"] == "李四"
    assert [(f["userid"], [t["tag_name"] for t in f["tags"]]) for f in detail["follow_user"]] == [("zhangsan", ["VIP"])]
    assert CUSTOMER in ec.list("zhangsan")["external_userid"]
    assert errcode(lambda: ec.mark_tag("lisi", CUSTOMER, add_tag=[vip])) == 84061
    assert errcode(lambda: ec.mark_tag("zhangsan", CUSTOMER)) == 40058  # both lists empty
    assert errcode(lambda: ec.get("wmnobody")) == 40096
    assert errcode(lambda: ec.list("nobody")) == 40003


def test_a_stale_token_is_fetched_again_and_the_call_retried(server: Any) -> None:
    """wechatpy retries once after 40014/42001 with a fresh token: our codes drive that path."""
    client = local_client(server.url, MAIN["corpid"], MAIN["secret"], access_token="stale-token-0000000000")
    try:
        assert client.external_contact.get_corp_tag_list()["errcode"] == 0
        assert client.access_token != "stale-token-0000000000"
    finally:
        client._http.close()


def test_a_wrong_secret_is_40001_at_token_time(server: Any) -> None:
    client = local_client(server.url, MAIN["corpid"], "wrong")
    try:
        assert errcode(lambda: client.external_contact.get_corp_tag_list()) == 40001
    finally:
        client._http.close()
