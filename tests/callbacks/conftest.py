"""Callback test helpers: a WeChat OA seeded in-process, a receiver on a free port, and the
control plane's callback hub (to shorten the vendor's 5 s timeout in timeout tests)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from polytag.callbacks.hub import Callbacks
from polytag.callbacks.receiver import Receiver
from polytag.control.plane import _planes
from polytag.core.service import Service

APPID, OTHER = "wx00000000000000c1", "wx00000000000000c2"
F1, F2 = "oCallbackFollower00000000001", "oCallbackFollower00000000002"
SEED = {"apps": [
    {"dialect": "wechat", "appid": APPID, "secret": "cb-secret-1", "followers": [F1, F2], "tags": [{"name": "广东"}]},
    {"dialect": "wechat", "appid": OTHER, "secret": "cb-secret-2", "followers": []},
]}


@pytest.fixture
def wechat(seeded: Callable[[dict[str, Any]], list[Any]], client: TestClient) -> TestClient:
    """The in-process client over a service holding APPID (two followers, tag 100) and OTHER."""
    seeded(SEED)
    return client


@pytest.fixture
def hub(service: Service, wechat: TestClient) -> Callbacks:
    return _planes[service].callbacks


@pytest.fixture
def receiver(receivers: Callable[..., Receiver]) -> Receiver:
    return receivers(APPID)


def configure(client: TestClient, r: Receiver, mode: str = "plain", app: str = APPID) -> dict[str, Any]:
    doc = {"url": r.url, "token": r.token, "encoding_aes_key": r.encoding_aes_key, "mode": mode}
    resp = client.put("/_polytag/callbacks/config", params={"app": app}, json=doc)
    assert resp.status_code == 200, resp.text
    out: dict[str, Any] = resp.json()
    return out


def simulate(client: TestClient, action: str, status: int = 200, app: str = APPID, **doc: Any) -> dict[str, Any]:
    resp = client.post("/_polytag/simulate", json={"app": app, "action": action, **doc})
    assert resp.status_code == status, resp.text
    out: dict[str, Any] = resp.json()
    return out


def flush(client: TestClient, **doc: Any) -> dict[str, Any]:
    resp = client.post("/_polytag/callbacks/flush", json=doc)
    assert resp.status_code == 200, resp.text
    out: dict[str, Any] = resp.json()
    assert out["settled"], out
    return out


def deliveries(client: TestClient, app: str = APPID) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = client.get("/_polytag/callbacks", params={"app": app}).json()["deliveries"]
    return got
