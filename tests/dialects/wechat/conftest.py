"""WeChat test helpers: the golden seed, token fetching, and a tiny JSON caller over any HTTP client."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from polytag.core.service import Service

SEED_EPOCH = 1_700_000_000  # the service clock at seed time, so `subscribe_time` is a constant

MAIN = {"appid": "wx00000000000000a1", "secret": "golden-secret-main"}
OTHER = {"appid": "wx00000000000000a2", "secret": "golden-secret-other"}
FULL = {"appid": "wx00000000000000a3", "secret": "golden-secret-full"}
CAP = {"appid": "wx00000000000000a4", "secret": "golden-secret-cap"}

F1, F2, F3 = "ocYxcuAEy30bX0NXmGn4ypqx3tI0", "ocYxcuBt0mRugKZ7tGAHPnUaOW7Y", "ocYxcuCl7CDsTaaT9yiNAGnqnSPQ"
OTHER_F = "oOtherAppFollower00000000001"
FULL_F1, FULL_F2 = "oFullAppFollower000000000001", "oFullAppFollower000000000002"
CAP_FS = [f"oCapAppFollower0000000000000{i}" for i in range(1, 5)]

GOLDEN_SEED: dict[str, Any] = {"apps": [
    # the main account: three followers and one custom tag (id 100, the first custom id)
    # F3's own language is English (user/info `language`; the others are zh_CN, the default)
    {"dialect": "wechat", **MAIN, "followers": [F1, F2, {"openid": F3, "language": "en"}], "tags": [{"name": "广东"}]},
    # another account, for 49003; a wrong secret here answers 40001 (the configurable code)
    {"dialect": "wechat", **OTHER, "followers": [OTHER_F], "wrong_secret_code": 40001},
    # an account at the 100-tag cap (ids 100..199); FULL_F1 carries 20 of them (see golden_env)
    {"dialect": "wechat", **FULL, "followers": [FULL_F1, FULL_F2],
     "tags": [{"name": f"t{i:03d}"} for i in range(100)]},
    # 45057 with a small cap: four followers all carry tag 100 (see golden_env)
    {"dialect": "wechat", **CAP, "followers": CAP_FS, "tags": [{"name": "大户"}],
     "limits": {"tag_delete_max_members": 3}},
]}


def get_token(client: Any, app: dict[str, str]) -> str:
    resp = client.get("/cgi-bin/token", params={"grant_type": "client_credential", **_cred(app)})
    data = resp.json()
    assert "access_token" in data, data
    return str(data["access_token"])


def _cred(app: dict[str, str]) -> dict[str, str]:
    return {"appid": app["appid"], "secret": app["secret"]}


def call(client: Any, path: str, token: str, body: Any = None, method: str = "POST",
         **query: str) -> dict[str, Any]:
    """One WeChat call; the decoded JSON answer."""
    content = b"" if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
    resp = client.request(method, f"/cgi-bin/{path}", params={"access_token": token, **query},
                          content=content)
    assert resp.status_code == 200, resp.text
    out: dict[str, Any] = resp.json()
    return out


def tag_in_bulk(service: Service, appid: str, tag_id: int, openids: list[str]) -> None:
    """Tag many followers at once through the core (no 50-per-call batch limit on this path)."""
    app = service.apps.get(appid)
    service.write_sync(lambda tx: service.tag_subjects(tx, app, str(tag_id), openids, batch="bulk"))


@pytest.fixture
def golden_env(service: Service, seeded: Callable[[dict[str, Any]], list[Any]],
               client: TestClient) -> dict[str, str]:
    """The golden seed applied to a fresh database, plus the vars golden files refer to."""
    with pytest.MonkeyPatch.context() as mp:  # a still clock while seeding: subscribe_time is exact
        mp.setattr(service.clock, "now", lambda: float(SEED_EPOCH))
        seeded(GOLDEN_SEED)
    service.clock.set(SEED_EPOCH)
    full = service.apps.get(FULL["appid"])
    service.write_sync(lambda tx: [service.tag_subjects(tx, full, str(t), [FULL_F1]) for t in range(100, 120)])
    tag_in_bulk(service, CAP["appid"], 100, CAP_FS)
    # a token that ran out: issued 7201 s ago (before the live ones, so it caps nothing)
    main = service.apps.get(MAIN["appid"])
    service.clock.set(SEED_EPOCH - 7201)
    expired = service.write_sync(lambda tx: service.tokens.issue(tx, main.id, "token", 7200, 300))
    service.clock.set(SEED_EPOCH)
    return {
        "access_token": get_token(client, MAIN),
        "other_token": get_token(client, OTHER),
        "full_token": get_token(client, FULL),
        "cap_token": get_token(client, CAP),
        "expired_token": expired.token,
    }
