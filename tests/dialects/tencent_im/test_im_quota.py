"""Call frequency per API per app: 100/s by default, configurable per app, 60007 over it."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from polytag.core.service import Service
from tests.dialects.tencent_im.conftest import app_entry, query

PATH = "/v4/all_member_push/im_get_tag"


def _codes(client: TestClient, n: int, path: str = PATH) -> list[int]:
    params = query()
    return [client.post(path, params=params, content=b'{"To_Account":["a"]}').json()["ErrorCode"]
            for _ in range(n)]


def test_configured_limit_per_api(client: TestClient, service: Service, seeded: Any, monkeypatch: Any) -> None:
    seeded({"apps": [app_entry(rate_limits={"*": 3})]})
    frozen = service.clock.now()
    monkeypatch.setattr(service.clock, "now", lambda: frozen)  # no call leaves the window by itself
    assert _codes(client, 4) == [0, 0, 0, 60007]
    # another API has its own budget
    assert _codes(client, 1, "/v4/all_member_push/im_get_attr") == [0]
    monkeypatch.setattr(service.clock, "now", lambda: frozen + 1.5)
    assert _codes(client, 1) == [0]


def test_default_is_100_per_second(client: TestClient, service: Service, seeded: Any, monkeypatch: Any) -> None:
    seeded({"apps": [app_entry()]})
    frozen = service.clock.now()
    monkeypatch.setattr(service.clock, "now", lambda: frozen)
    got = _codes(client, 101)
    assert got[:100] == [0] * 100 and got[100] == 60007
