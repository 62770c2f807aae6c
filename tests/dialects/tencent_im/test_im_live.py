"""Over the network: a real `polytag serve` seeded from YAML, official UserSigs, httpx as the client."""

from __future__ import annotations

from typing import Any

import httpx

from tests.dialects.tencent_im.conftest import app_entry, query


def test_live_server_round_trip(live_server: Any) -> None:
    server = live_server({"apps": [app_entry()]})
    with httpx.Client(base_url=server.url, timeout=10) as http:
        r = http.post("/v4/all_member_push/im_add_tag", params=query(),
                      content='{"UserTags":[{"To_Account":"xiaojun012","Tags":["黄金会员"]}]}'.encode())
        assert r.status_code == 200 and r.content == b'{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}'
        r = http.post("/v4/all_member_push/im_get_tag", params=query(), content=b'{"To_Account":["xiaojun012"]}')
        assert r.json()["UserTags"] == [{"To_Account": "xiaojun012", "Tags": ["黄金会员"]}]
        r = http.post("/v4/all_member_push/im_get_tag", params=query(identifier="xiaojun012"),
                      content=b'{"To_Account":["xiaojun012"]}')
        assert r.json()["ErrorCode"] == 90009
