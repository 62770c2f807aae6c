"""WeCom test helpers: the golden seed (a corp, another corp, a corp at its caps), a frozen clock,
an in-process client holding a token, and the vars golden files are filled from."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from polytag.core.service import Service
from tests import et_id

EPOCH = 1557838797.0  # get_corp_tag_list's sample create_time (spec C2)
CORPID, SECRET = "ww5f1c0e5d8a3b2c71", "Wl0tSjXwI3yZ9d6f0qKc7pBv2nA1mR8sT4uE5hG6iJ"
CUSTOMER = "woAJ2GCAAAXtWyujaWJHDDGi0mACHAAA"  # WeCom's sample external_userid
UNIONID = "ozynqsulJFCZ2z1aYeS8h-nuasdAAA"

MAIN: dict[str, Any] = {
    "dialect": "wecom", "corpid": CORPID, "secret": SECRET, "members": ["zhangsan", "lisi"],
    "customers": [{"external_userid": CUSTOMER, "unionid": UNIONID, "name": "李四", "follow_users": ["zhangsan"]},
                  {"external_userid": "wmqfasd1e1927831123", "unionid": "", "name": "王五",
                   "follow_users": ["zhangsan", "lisi"]}],
    "groups": [{"name": "客户等级", "order": 10, "tags": [{"name": "VIP", "order": 5}, {"name": "普通"}]}],
}
OTHER: dict[str, Any] = {
    "dialect": "wecom", "corpid": "ww00000000000000other", "secret": "other-secret", "members": ["zhangsan"],
    "customers": [{"external_userid": CUSTOMER, "unionid": UNIONID, "name": "李四", "follow_users": ["zhangsan"]}],
    "groups": [{"name": "客户等级", "tags": [{"name": "VIP"}]}],
}
CAP: dict[str, Any] = {  # 3 tags per corp, 1 tag per member-customer pair
    "dialect": "wecom", "corpid": "ww0000000000000000cap", "secret": "cap-secret", "members": ["zhangsan"],
    "customers": [{"external_userid": "wmcap", "follow_users": ["zhangsan"]}],
    "groups": [{"name": "满", "tags": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}],
    "limits": {"tags_per_app": 3, "tags_per_subject": 1},
}
LOCKED: dict[str, Any] = {  # a secret that may not call the customer-contact APIs
    "dialect": "wecom", "corpid": "ww000000000000locked", "secret": "locked-secret", "callable": False,
}
GOLDEN_SEED = {"apps": [MAIN, OTHER, CAP, LOCKED]}
JZ_TOKEN = "face-token-000000000000000000000"
FACE: dict[str, Any] = {"dialect": "juzibot", "name": "acme-face", "token": JZ_TOKEN, "corpid": CORPID}  # MAIN via JuziBot
HINT = re.compile(r"hint: \[\d{25}\]")


def token(client: Any, entry: dict[str, Any] = MAIN) -> str:
    got = client.get("/cgi-bin/gettoken", params={"corpid": entry["corpid"], "corpsecret": entry["secret"]}).json()
    assert got["errcode"] == 0, got
    return str(got["access_token"])


def golden_vars(client: Any) -> dict[str, str]:
    """Tokens (one per corp, fetched now) and the ids the service hands out (test id seed)."""
    out = {"token": token(client), "other_token": token(client, OTHER), "cap_token": token(client, CAP),
           "locked_token": token(client, LOCKED), "corpid": CORPID, "secret": SECRET, "customer": CUSTOMER}
    for prefix, entry in (("", MAIN), ("o", OTHER), ("c", CAP)):
        for i in range(12):
            out[f"{prefix}g{i}"] = et_id(entry["corpid"], "group", i)
            out[f"{prefix}t{i}"] = et_id(entry["corpid"], "tag", i)
    return out


def normalise(text: str) -> str:
    """The hint is the request id; the token of a gettoken answer is random."""
    text = HINT.sub("hint: [{rid}]", text)
    return re.sub(r'"access_token":"[A-Za-z0-9_\-]+"', '"access_token":"{access_token}"', text)


@pytest.fixture
def wc(service: Service, seeded: Callable[[dict[str, Any]], list[Any]], client: TestClient,
       monkeypatch: pytest.MonkeyPatch) -> TestClient:
    """The golden seed on a fresh database, the clock frozen at EPOCH, an in-process client."""
    monkeypatch.setattr(service.clock, "now", lambda: EPOCH)
    seeded(GOLDEN_SEED)
    return client


def call(client: Any, path: str, body: Any = None, method: str = "POST", access_token: str = "",
         **query: str) -> dict[str, Any]:
    """One WeCom call; asserts HTTP 200 and returns the decoded envelope."""
    content = b"" if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
    params = {"access_token": access_token, **query} if access_token else query
    resp = client.request(method, f"/cgi-bin/{path}", params=params, content=content)
    assert resp.status_code == 200, resp.text
    out: dict[str, Any] = resp.json()
    return out
