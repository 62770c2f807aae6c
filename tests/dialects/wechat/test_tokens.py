"""Access tokens (spec A2): restarts, overlap, expiry, stable_token rules; and wire leniency (A1, A7)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from starlette.testclient import TestClient

from polytag.core.service import Service
from tests.conftest import stop_server
from tests.dialects.wechat.conftest import call, get_token

APP = {"appid": "wx00000000000000d1", "secret": "token-secret"}
FAN = "oTokenFollower00000000000001"
SEED = {"apps": [{"dialect": "wechat", **APP, "followers": [FAN], "tags": [{"name": "广东"}]}]}
STABLE = {"grant_type": "client_credential", **APP}
GD = [{"id": 2, "name": "星标组", "count": 0}, {"id": 100, "name": "广东", "count": 0}]


def tags(client: Any, token: str) -> Any:
    got = call(client, "tags/get", token, method="GET")
    return got.get("tags", got.get("errcode"))


def stable(client: Any, **body: Any) -> dict[str, Any]:
    out: dict[str, Any] = client.post("/cgi-bin/stable_token", json={**STABLE, **body}).json()
    return out


def test_token_survives_a_restart(live_server: Callable[..., Any]) -> None:
    server = live_server(SEED)
    with httpx.Client(base_url=server.url) as http:
        token = get_token(http, APP)
        assert tags(http, token) == GD
    stop_server(server)
    again = live_server()  # same database, no seed
    with httpx.Client(base_url=again.url) as http:
        assert tags(http, token) == GD
        assert tags(http, "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345") == 40001


def test_new_token_leaves_the_old_one_300_seconds(client: TestClient, service: Service,
                                                  seeded: Callable[[dict[str, Any]], Any]) -> None:
    seeded(SEED)
    first = get_token(client, APP)
    second = get_token(client, APP)
    assert first != second
    assert tags(client, first) == GD and tags(client, second) == GD  # overlap
    service.clock.advance(299)
    assert tags(client, first) == GD
    service.clock.advance(2)
    assert tags(client, first) == 40001  # superseded: "invalid credential ... not latest"
    assert tags(client, second) == GD
    service.clock.advance(7200 - 301)
    assert tags(client, second) == 42001  # ran out on its own: "access_token expired"


def test_stable_token(client: TestClient, service: Service, seeded: Callable[[dict[str, Any]], Any]) -> None:
    seeded(SEED)
    one = stable(client)
    assert one["expires_in"] == 7200
    service.clock.advance(100)
    two = stable(client)
    assert two["access_token"] == one["access_token"] and 7099 <= two["expires_in"] <= 7100
    normal = get_token(client, APP)  # cgi-bin/token is isolated from stable tokens
    assert stable(client)["access_token"] == one["access_token"]
    assert tags(client, one["access_token"]) == GD and tags(client, normal) == GD

    forced = stable(client, force_refresh=True)
    assert forced["access_token"] != one["access_token"] and forced["expires_in"] == 7200
    assert tags(client, one["access_token"]) == 40001  # force_refresh invalidates the previous one
    assert tags(client, forced["access_token"]) == GD
    assert stable(client)["access_token"] == forced["access_token"]
    assert stable(client, force_refresh=None)["access_token"] == forced["access_token"]  # null = absent
    assert stable(client, force_refresh=True)["errcode"] == 45011  # 30 s apart
    assert tags(client, normal) == GD


def test_stable_token_rolls_five_minutes_before_expiry(client: TestClient, service: Service,
                                                       seeded: Callable[[dict[str, Any]], Any]) -> None:
    seeded(SEED)
    old = stable(client)["access_token"]
    service.clock.advance(7200 - 299)
    new = stable(client)
    assert new["access_token"] != old and new["expires_in"] == 7200
    assert tags(client, old) == GD and tags(client, new["access_token"]) == GD  # both valid meanwhile
    assert stable(client)["access_token"] == new["access_token"]


def test_force_refresh_is_limited_to_20_a_day(client: TestClient, service: Service,
                                              seeded: Callable[[dict[str, Any]], Any]) -> None:
    seeded(SEED)
    for _ in range(20):
        assert "access_token" in stable(client, force_refresh=True)
        service.clock.advance(31)
    assert stable(client, force_refresh=True)["errcode"] == 45009
    service.clock.advance(86400)
    assert "access_token" in stable(client, force_refresh=True)


def test_bodies_without_or_with_any_content_type(client: TestClient, seeded: Callable[[dict[str, Any]], Any]) -> None:
    seeded(SEED)
    token = get_token(client, APP)
    body = '{"tag": {"name": "无类型"}}'.encode()
    for i, headers in enumerate([{}, {"Content-Type": "application/x-www-form-urlencoded"},
                                 {"Content-Type": "text/plain"}, {"Content-Type": "application/json"}]):
        content = body.replace("无类型".encode(), f"无类型{i}".encode())
        resp = client.post("/cgi-bin/tags/create", params={"access_token": token}, content=content, headers=headers)
        assert resp.request.headers.get("content-type") == headers.get("Content-Type")  # none sent for {}
        assert resp.json() == {"tag": {"id": 101 + i, "name": f"无类型{i}"}}
        assert resp.headers["content-type"] == "application/json; encoding=utf-8"


def test_non_ascii_round_trips_raw(client: TestClient, seeded: Callable[[dict[str, Any]], Any]) -> None:
    seeded(SEED)
    token = get_token(client, APP)
    q = {"access_token": token}
    escaped = client.post("/cgi-bin/tags/create", params=q, content=b'{"tag":{"name":"\\u6f6e\\u6c55"}}')
    assert escaped.content == '{"tag":{"id":101,"name":"潮汕"}}'.encode()  # raw UTF-8 out, no \\u
    raw = client.post("/cgi-bin/tags/create", params=q, content='{"tag":{"name":"émoji 🎉"}}'.encode())
    assert raw.content == '{"tag":{"id":102,"name":"émoji 🎉"}}'.encode()
    bom = client.post("/cgi-bin/tags/update", params=q, content='\ufeff{"tag":{"id":101,"name":"潮州"}}'.encode())
    assert bom.json() == {"errcode": 0, "errmsg": "ok"}
    remark = client.post("/cgi-bin/user/info/updateremark", params=q,
                         content=f'{{"openid":"{FAN}","remark":"老客户\\t✓"}}'.encode())
    assert remark.json() == {"errcode": 0, "errmsg": "ok"}
    info = client.get("/cgi-bin/user/info", params={**q, "openid": FAN})
    assert '"remark":"老客户\\t✓"'.encode() in info.content
    assert tags(client, token) == [*GD, {"id": 101, "name": "潮州", "count": 0}, {"id": 102, "name": "émoji 🎉", "count": 0}]
