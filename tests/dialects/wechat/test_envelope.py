"""Every endpoint, fed anything: HTTP 200, WeChat's content type, a JSON object, and never a 500 or -1.

-1 (`system error`) is what the dialect answers for an exception nobody foresaw, so hostile bodies
must each map to a documented code instead (architecture: "bad input never reaches a 500").
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from polytag.dialects.wechat import DIALECT
from polytag.dialects.wechat.errors import MESSAGES
from tests.dialects.wechat.conftest import F1, MAIN, get_token

PATHS = [ep.path for ep in DIALECT.endpoints]
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(min_value=-2**70, max_value=2**70),
                    st.floats(allow_nan=False), st.text(max_size=40), st.sampled_from([F1, "100", "2", ""]))
JSON = st.recursive(SCALARS, lambda kids: st.one_of(st.lists(kids, max_size=4),
                                                    st.dictionaries(st.text(max_size=8), kids, max_size=4)),
                    max_leaves=12)
KEYS = ["tag", "id", "name", "tagid", "openid", "openid_list", "next_openid", "user_list", "lang", "remark",
        "begin_openid", "grant_type", "appid", "secret", "force_refresh",
        "filter", "msgtype", "text", "mpnews", "image", "images", "touser", "towxname", "msg_id", "article_idx",
        "speed", "clientmsgid", "send_ignore_reprint"]
BODIES = st.one_of(JSON, st.dictionaries(st.sampled_from(KEYS), JSON, max_size=4),
                   st.fixed_dictionaries({"tag": st.dictionaries(st.sampled_from(["id", "name"]), JSON)}))
RAW = [b"", b" ", b"{", b"[]", b"null", b"123", b'"x"', b"\xff\xfe", b"{" * 5000 + b"}" * 5000,
       b'{"tagid": NaN}', b'{"tagid": 1e400}', b'{"openid_list": ["\\ud800"], "tagid": 100}',
       b'{"tag": {"name": "a\\u0000b"}, "openid": "o\\u0000", "openid_list": ["o\\u0000"], "tagid": 100}',
       b'{"tag": {"id": 100, "name": "\\u0000"}, "user_list": [{"openid": "\\u0000"}], "remark": "\\u0000"}']


def check(resp: Any) -> dict[str, Any]:
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "application/json; encoding=utf-8"
    body = json.loads(resp.content)
    assert isinstance(body, dict)
    if "errcode" in body:
        assert body["errcode"] in MESSAGES or body["errcode"] == 0, body
        assert body["errcode"] != -1, body
    return body


@pytest.fixture
def token(client: TestClient, seeded: Callable[[dict[str, Any]], Any]) -> str:
    seeded({"apps": [{"dialect": "wechat", **MAIN, "followers": [F1], "tags": [{"name": "广东"}]}]})
    return get_token(client, MAIN)


@pytest.mark.parametrize("path", PATHS)
def test_raw_bodies_and_methods(client: TestClient, token: str, path: str) -> None:
    for method in ("GET", "POST", "PUT", "DELETE", "PATCH"):
        for raw in RAW:
            check(client.request(method, f"/cgi-bin/{path}", params={"access_token": token}, content=raw))
    for bad in ({}, {"access_token": ""}, {"access_token": "x" * 600}, {"access_token": "短"},
                {"access_token": "\x00" * 20}):
        check(client.post(f"/cgi-bin/{path}", params=bad, content=b"{}"))
    nul = {k: "o\x00" for k in ("openid", "next_openid", "lang", "tagid", "appid", "secret", "grant_type")}
    for method in ("GET", "POST"):
        check(client.request(method, f"/cgi-bin/{path}", params={**nul, "access_token": token}))
        check(client.request(method, f"/cgi-bin/{path}", params={**nul, "grant_type": "client_credential"}))


@settings(max_examples=150, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(path=st.sampled_from(PATHS), body=BODIES, query=st.dictionaries(st.sampled_from(KEYS), st.text(max_size=8)))
def test_any_json_gets_an_envelope(client: TestClient, token: str, path: str, body: Any, query: dict[str, str]) -> None:
    content = json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")
    for method in ("GET", "POST"):
        check(client.request(method, f"/cgi-bin/{path}", params={**query, "access_token": token}, content=content))


ODD_IDS = ["²", "--100", "1" * 5000, "１００", "+100", "1e2", "0x64", "100\n", "١٠٠", "9" * 20, 10**30, -(2**64)]


@pytest.mark.parametrize("odd", ODD_IDS, ids=lambda v: repr(v)[:20])
def test_odd_numbers_are_a_data_format_error(client: TestClient, token: str, odd: Any) -> None:
    """A tag id spelled in anything but ASCII digits (superscripts, full-width, Arabic-Indic,
    a double minus, 5,000 digits) or past 64 bits answers 47001, never -1 and never a tag."""
    bodies = {"tags/update": {"tag": {"id": odd, "name": "x"}}, "tags/delete": {"tag": {"id": odd}},
              "user/tag/get": {"tagid": odd}, "tags/members/batchtagging": {"tagid": odd, "openid_list": [F1]},
              "tags/members/batchuntagging": {"tagid": odd, "openid_list": [F1]}}
    for path, body in bodies.items():
        resp = client.post(f"/cgi-bin/{path}", params={"access_token": token},
                           content=json.dumps(body, ensure_ascii=False).encode())
        assert check(resp)["errcode"] == 47001, (path, resp.text)


def test_numeric_strings_in_ascii_still_work(client: TestClient, token: str) -> None:
    for spelled in ("100", " 100", "100 ", "-5"):
        got = check(client.post("/cgi-bin/user/tag/get", params={"access_token": token},
                                content=json.dumps({"tagid": spelled}).encode()))
        assert got["errcode" if spelled == "-5" else "count"] == (45159 if spelled == "-5" else 0), got
