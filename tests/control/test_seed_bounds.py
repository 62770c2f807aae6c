"""The control plane refuses seeds asking too much and answers 400 naming why (issue 15, 3 and 15)."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from tests.control.conftest import AUTH

HUGE = 10**12


def wx(**extra: Any) -> dict[str, Any]:
    return {"dialect": "wechat", "appid": "wxhuge", "secret": "s", **extra}


def test_control_plane_seed_answers_400_naming_the_limit(ctl: TestClient) -> None:
    r = ctl.post("/_polytag/seed", json={"apps": [wx(followers={"generate": HUGE})]}, headers=AUTH)
    assert r.status_code == 400 and "over the limit of 10,000,000" in r.json()["error"]
    r = ctl.post("/_polytag/seed", json={"apps": [{"dialect": "native", "name": "wxcontrol0000001"}]},
                 headers=AUTH)
    assert r.status_code == 400 and "exists with dialect 'wechat'" in r.json()["error"]
    r = ctl.post("/_polytag/seed", json={"apps": [{"dialect": "native", "name": "n", "limits": {"x": 1}}]},
                 headers=AUTH)
    assert r.status_code == 400 and "unknown limit 'x'" in r.json()["error"]
    assert "wxhuge" not in [a["name"] for a in ctl.get("/v1/apps", headers=AUTH).json()]


