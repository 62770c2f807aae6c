"""Fixtures for the Tencent IM dialect: a seeded app, UserSigs from the official package, a caller."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import TLSSigAPIv2
from starlette.testclient import TestClient

from polytag.core.service import Service

SDKAPPID = 1400000001
KEY = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e"
OTHER_KEY = "0000000000000000000000000000000000000000000000000000000000000000"
ADMIN = "administrator"
ACCOUNTS = ["xiaojun012", "xiaojun013", "xiaojun014"]


def app_entry(**extra: Any) -> dict[str, Any]:
    return {"dialect": "tencent_im", "sdkappid": SDKAPPID, "key": KEY, "admin": [ADMIN, "admin2"],
            "accounts": list(ACCOUNTS), **extra}


def gen_sig(identifier: str = ADMIN, expire: int = 180 * 86400, key: str = KEY, sdkappid: int = SDKAPPID,
            userbuf: bytes | None = None) -> str:
    """A UserSig made by Tencent's own library (tls-sig-api-v2 from PyPI)."""
    api = TLSSigAPIv2.TLSSigAPIv2(sdkappid, key)
    if userbuf is not None:
        return str(api.gen_sig_with_userbuf(identifier, expire, userbuf))
    return str(api.gen_sig(identifier, expire))


def query(identifier: str = ADMIN, sig: str | None = None, sdkappid: int | str = SDKAPPID) -> dict[str, str]:
    return {"sdkappid": str(sdkappid), "identifier": identifier,
            "usersig": sig if sig is not None else gen_sig(identifier), "random": "99999999",
            "contenttype": "json"}


@pytest.fixture
def im_app(seeded: Callable[[dict[str, Any]], list[Any]]) -> Any:
    return seeded({"apps": [app_entry()]})[0]


Caller = Callable[..., dict[str, Any]]


@pytest.fixture
def call(client: TestClient, im_app: Any) -> Caller:
    """`call("all_member_push/im_get_tag", {...})` -> the decoded envelope (asserting HTTP 200)."""
    sig = gen_sig()

    def do(path: str, body: Any = None, *, raw: bytes | None = None, params: dict[str, str] | None = None,
           method: str = "POST") -> dict[str, Any]:
        content = raw if raw is not None else json.dumps(body if body is not None else {}).encode()
        resp = client.request(method, f"/v4/{path}", params=params or query(sig=sig), content=content)
        assert resp.status_code == 200, resp.text
        out: dict[str, Any] = resp.json()
        return out

    return do


@pytest.fixture
def svc(service: Service) -> Service:
    return service
