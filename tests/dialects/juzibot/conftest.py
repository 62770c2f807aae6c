"""JuziBot test helpers: the golden seed (the issue's own app plus two), a frozen clock, the vars."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from polytag.core.customers import derived_external_id
from polytag.core.service import Service
from tests import et_id

EPOCH = 1601274190.0  # the seed page's createTimestamp (1601274190000 ms)
TOKEN = "7f3c2a91d4e84b6fa0c5e2d1b9a87654"
UNION = "ozynqsulJFCZ2z1aYeS8h-nuasdAAA"

# the seed entry, verbatim
MAIN: dict[str, Any] = {
    "dialect": "juzibot", "name": "acme-scrm", "token": TOKEN, "members": ["rocky", "lily"],
    "customers": [{"unionId": UNION, "friends": ["rocky"]}],
    "groups": [{"name": "客户等级", "order": 10, "tags": [{"name": "VIP", "order": 5}, {"name": "普通"}]}],
}
# another app (its ids are refused by acme-scrm, as ids nobody has: 40068)
OTHER: dict[str, Any] = {
    "dialect": "juzibot", "name": "other-scrm", "token": "other-token-0000000000000000000",
    "members": ["rocky"], "customers": [{"unionId": UNION, "friends": ["rocky"]}],
    "groups": [{"name": "客户等级", "tags": [{"name": "VIP"}]}],
}
# an app at its (configured) caps: 3 tags per app, 1 tag per member-customer pair
CAP: dict[str, Any] = {
    "dialect": "juzibot", "name": "cap-scrm", "token": "cap-token-00000000000000000000",
    "members": ["rocky"], "customers": [{"unionId": "cap-customer", "friends": ["rocky"]}],
    "groups": [{"name": "满", "tags": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}],
    "limits": {"tags_per_app": 3, "tags_per_subject": 1},
}
GOLDEN_SEED = {"apps": [MAIN, OTHER, CAP]}


def golden_vars() -> dict[str, str]:
    """Tokens and the ids the service will hand out (the test id seed: app name, kind, ordinal)."""
    out = {"token": TOKEN, "other_token": OTHER["token"], "cap_token": CAP["token"], "union": UNION,
           "ext": derived_external_id("acme-scrm", UNION)}
    for prefix, app in (("", "acme-scrm"), ("o", "other-scrm"), ("c", "cap-scrm")):
        for i in range(12):
            out[f"{prefix}g{i}"] = et_id(app, "group", i)
            out[f"{prefix}t{i}"] = et_id(app, "tag", i)
    return out


@pytest.fixture
def jz(service: Service, seeded: Callable[[dict[str, Any]], list[Any]], client: TestClient,
       monkeypatch: pytest.MonkeyPatch) -> TestClient:
    """The golden seed on a fresh database, the clock frozen at EPOCH, an in-process client."""
    monkeypatch.setattr(service.clock, "now", lambda: EPOCH)
    seeded(GOLDEN_SEED)
    return client


def call(client: Any, path: str, body: Any = None, method: str = "POST", token: str = TOKEN,
         **query: str) -> dict[str, Any]:
    """One JuziBot call; asserts HTTP 200 and returns the decoded envelope."""
    content = b"" if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
    resp = client.request(method, f"/api/v1/{path}", params={"token": token, **query}, content=content)
    assert resp.status_code == 200, resp.text
    out: dict[str, Any] = resp.json()
    return out


def listing(client: Any, token: str = TOKEN) -> list[dict[str, Any]]:
    got = call(client, "tag/list", method="GET", token=token)
    assert got["errcode"] == 0, got
    data: list[dict[str, Any]] = got["data"]
    return data
