"""45057 at the real default: a tag with more than 100,000 fans cannot be deleted (spec A3, seed 000)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from polytag.core.ids import generated_ext_ids
from polytag.core.service import Service
from polytag.errors import LimitExceeded
from tests.dialects.wechat.conftest import call, get_token, tag_in_bulk

APP = {"appid": "wx00000000000000e1", "secret": "big-secret"}
N = 100_001


@pytest.mark.slow
def test_delete_refused_above_100000_fans(client: TestClient, service: Service,
                                          seeded: Callable[[dict[str, Any]], Any]) -> None:
    seeded({"apps": [{"dialect": "wechat", **APP, "followers": {"generate": N}, "tags": [{"name": "大号"}]}]})
    fans = generated_ext_ids(f"wechat:{APP['appid']}", N)
    tag_in_bulk(service, APP["appid"], 100, fans)
    app = service.apps.get(APP["appid"])
    assert app.limits.tag_delete_max_members == 100_000  # the preset, no override

    with pytest.raises(LimitExceeded) as info:  # the core's rule
        service.write_sync(lambda tx: service.tags.delete(tx, app, "100"))
    assert (info.value.limit, info.value.value, info.value.allowed) == ("tag_delete_max_members", N, 100_000)

    token = get_token(client, APP)  # and its wire form
    got = call(client, "tags/delete", token, {"tag": {"id": 100}})
    assert got["errcode"] == 45057 and got["errmsg"].startswith("can't delete the tag that has too many fans rid: ")
    assert call(client, "tags/get", token, method="GET")["tags"][1] == {"id": 100, "name": "大号", "count": N}
    assert call(client, "tags/members/batchuntagging", token, {"openid_list": fans[:1], "tagid": 100})["errcode"] == 0
    assert call(client, "tags/delete", token, {"tag": {"id": 100}}) == {"errcode": 0, "errmsg": "ok"}  # exactly 100,000
    assert call(client, "tags/getidlist", token, {"openid": fans[-1]}) == {"tagid_list": []}
