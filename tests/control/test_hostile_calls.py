"""What a stranger or a careless client can do through the vendor paths to the control plane's
state: spend an app's quota, grow the quota table, the query cache or the journal, read a secret
in the journal, or break the journal's view (issue 15, findings 4 to 8)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from starlette.testclient import TestClient

from polytag.app import create_app
from polytag.config import Settings
from polytag.control.journal import MAX_BODY, MAX_PATH, MAX_QUERY, Filter
from polytag.control.plane import ControlPlane, _planes
from polytag.dialects import _http
from tests.conftest import IN_PROCESS
from tests.control.conftest import AUTH, KEY, SEED, WX, wx_call, wx_token

P = "/_polytag"
SECRET = "Sup3r-S3cret-Value-0123456789"  # appears nowhere else: any sight of it is a leak
APP = {"dialect": "wechat", "appid": "wxhostile0000001", "secret": SECRET, "followers": ["oH1"]}
CAP = 4096  # --max-body-bytes of the `small` server


def serve(tmp_path: Path, max_body: int) -> TestClient:
    seed = tmp_path / "seed.yaml"
    seed.write_text(yaml.safe_dump({"apps": [*SEED["apps"], APP]}, allow_unicode=True), "utf-8")
    settings = Settings(db=f"sqlite:///{tmp_path / 'polytag.db'}", seeds=(str(seed),), admin_key=KEY,
                        max_body_bytes=max_body, **IN_PROCESS)
    return TestClient(create_app(settings))


@pytest.fixture
def small(tmp_path: Path) -> Iterator[TestClient]:
    """A server like `ctl`, plus APP, with a 4 KiB body cap."""
    with serve(tmp_path, CAP) as c:
        yield c


@pytest.fixture
def wide(tmp_path: Path) -> Iterator[TestClient]:
    """The same with the default 1 MiB body cap (bodies past the journal's MAX_BODY get through)."""
    with serve(tmp_path, Settings(db="").max_body_bytes) as c:
        yield c


def plane_of(c: TestClient) -> ControlPlane:
    return _planes[c.app.state.service]  # type: ignore[attr-defined]


def token_of(c: TestClient, appid: str, secret: str) -> dict[str, Any]:
    got: dict[str, Any] = c.get("/cgi-bin/token", params={
        "grant_type": "client_credential", "appid": appid, "secret": secret}).json()
    return got


def usage(c: TestClient, appid: str = WX["appid"]) -> dict[str, Any]:
    got: dict[str, Any] = c.get(f"{P}/quotas", params={"app": appid}, headers=AUTH).json()["usage"]
    return got


# 4: only callers who proved the app spend its quota ------------------------------------------
def test_wrong_secrets_do_not_spend_the_token_quota(small: TestClient) -> None:
    appid = WX["appid"]
    assert small.post(f"{P}/quotas", json={"app": appid, "daily": {"token": 3, "stable_token": 2}},
                      headers=AUTH).status_code == 200
    for _ in range(20):
        assert token_of(small, appid, "not-the-secret")["errcode"] == 40125
        assert token_of(small, appid, "")["errcode"] == 41004
        wrong = {"grant_type": "client_credential", "appid": appid, "secret": "nope"}
        assert small.post("/cgi-bin/stable_token", json=wrong).json()["errcode"] == 40125
    assert usage(small) == {}  # nothing counted for strangers
    for _ in range(3):
        assert "access_token" in token_of(small, appid, WX["secret"])
    assert token_of(small, appid, WX["secret"])["errcode"] == 45009  # the owner's own 4th call
    right = {"grant_type": "client_credential", "appid": appid, "secret": WX["secret"]}
    assert ["access_token" in small.post("/cgi-bin/stable_token", json=right).json() for _ in range(3)] == [
        True, True, False]
    assert usage(small)["token"] == {"used": 3, "quota": 3}
    assert usage(small)["stable_token"] == {"used": 2, "quota": 2}


def test_calls_without_a_valid_token_spend_nothing(small: TestClient) -> None:
    appid = WX["appid"]
    small.post(f"{P}/quotas", json={"app": appid, "daily": {"tags/get": 2}}, headers=AUTH)
    token = wx_token(small)
    for _ in range(10):
        assert small.get("/cgi-bin/tags/get", params={"appid": appid}).json()["errcode"] == 41001
        got = small.get("/cgi-bin/tags/get", params={"appid": appid, "access_token": "A" * 40}).json()
        assert got["errcode"] == 40001
        assert small.post("/cgi-bin/tags/get", params={"access_token": token}).json()["errcode"] == 43001
    assert "tags/get" not in usage(small)
    assert "tags" in wx_call(small, "tags/get", token) and "tags" in wx_call(small, "tags/get", token)
    assert wx_call(small, "tags/get", token)["errcode"] == 45009
    assert usage(small)["tags/get"] == {"used": 2, "quota": 2}


def test_faults_still_fire_before_authentication(small: TestClient) -> None:
    """Faults are the developer's own tool: they match calls that name the app, proven or not."""
    fault = {"dialect": "wechat", "path": "token", "error": -1, "app": WX["appid"], "times": 1}
    assert small.post(f"{P}/faults", json=fault, headers=AUTH).status_code == 201
    assert token_of(small, WX["appid"], "wrong")["errcode"] == -1


# 5: the quota table holds known endpoints only -------------------------------------------------
def test_unknown_paths_add_nothing_to_the_quota_table(small: TestClient) -> None:
    token = wx_token(small)
    for i in range(50):
        path = f"/cgi-bin/x{i}/" + "p" * 2000
        assert small.get(path, params={"access_token": token}).json()["errcode"] == 40066
        over = small.post(path, params={"access_token": token}, content=b"{" + b" " * CAP + b"}")
        assert over.json()["errcode"] == 47001  # the body cap, answered before anything else
        over = small.post("/cgi-bin/tags/get", params={"access_token": token}, content=b" " * (CAP + 1))
        assert over.json()["errcode"] == 47001
    quotas = plane_of(small).quotas
    apis = {api for _, api in quotas._used} | {api for _, api in quotas._quotas}
    assert apis == {"token"}, sorted(apis)[:5]  # only the token call itself was counted


# 6: per-request caches and journal fields bounded in bytes -------------------------------------
def _size(value: Any) -> int:
    """Bytes of client data in a journal field: bytes and text by length, mappings deep."""
    if isinstance(value, bytes | str):
        return len(value)
    if isinstance(value, Mapping):
        return sum(_size(k) + _size(v) for k, v in value.items())
    return 0


def test_long_query_strings_are_bounded_in_bytes(small: TestClient) -> None:
    token = wx_token(small)
    cache = _http._cached_query
    before = cache.cache_info().currsize
    pad = "q" * 62 * 1024  # about the longest URL the test client sends
    for i in range(40):
        got = small.get("/cgi-bin/tags/get", params={"access_token": token, f"pad{i}": pad})
        assert "tags" in got.json()
        got = small.get(f"/cgi-bin/nowhere{i}/" + "z" * 30 * 1024, params={f"pad{i}": pad[:30 * 1024],
                                                                          "access_token": token})
        assert got.json()["errcode"] == 40066
    assert cache.cache_info().currsize <= before + 1  # the 64 KB queries were parsed, not kept
    journal = plane_of(small).journal
    entries = journal.select(Filter())
    assert len(entries) == 81
    per_entry = 2 * MAX_BODY + MAX_QUERY + 2 * MAX_PATH + 1024
    assert all(sum(_size(getattr(e, f)) for f in e.__slots__) <= per_entry for e in entries)
    held = sum(sum(_size(getattr(e, f)) for f in e.__slots__) for e in entries)
    assert held < 81 * (MAX_QUERY + MAX_PATH * 2 + 2048)  # ~1 MB where 81 x 128 KB came in
    resp = small.get(f"{P}/requests", params={"limit": 4}, headers=AUTH)
    shown = resp.json()["requests"]
    assert all(e["query_truncated"] and e["query"].get("access_token", "***") == "***" for e in shown)
    assert token not in resp.text


def test_the_query_cache_bound_holds_for_the_largest_query_it_keeps() -> None:
    """The worst query the cache keeps (QUERY_CACHE_BYTES, the most parameters) stays small parsed,
    so QUERY_CACHE_SIZE of them stay within 8 MiB."""
    n = _http.QUERY_CACHE_PARAMS
    width = _http.QUERY_CACHE_BYTES // n - 2
    raw = "&".join(f"{i:0{width // 2}d}=" + "v" * (width - width // 2) for i in range(n)).encode()[
        :_http.QUERY_CACHE_BYTES]
    before = _http._cached_query.cache_info().currsize
    query, _ = _http._parse_query(raw)
    assert _http._cached_query.cache_info().currsize <= before + 1
    deep = sys.getsizeof(raw) + sys.getsizeof(dict(query)) + sum(
        sys.getsizeof(k) + sys.getsizeof(v) for k, v in query.items())
    assert deep * _http.QUERY_CACHE_SIZE < 8 * 1024 * 1024, deep
    assert _http._parse_query(raw + b"&" + b"x" * 64)[0] is not _http._parse_query(raw + b"&" + b"x" * 64)[0]


# 7: the journal masks what the dialect read as a credential -----------------------------------
BODY = {"grant_type": "client_credential", "appid": APP["appid"], "secret": SECRET}
MASKED_BODIES = {
    "bom": b"\xef\xbb\xbf" + json.dumps(BODY).encode(),
    "raw tab": b'{"grant_type": "client_credential", "appid": "' + APP["appid"].encode()
    + b'", "secret": "' + SECRET.encode() + b'", "note": "a\tb"}',
    "over 64 KiB": json.dumps({**BODY, "pad": "x" * (MAX_BODY + 10)}).encode(),
    "escaped key": b'{"grant_type": "client_credential", "appid": "' + APP["appid"].encode()
    + b'", "s\\u0065cret": "' + SECRET.encode() + b'"}',
    "cut in the value": b'{"grant_type": "client_credential", "secret": "' + SECRET.encode(),
    "form": f"grant_type=client_credential&appid={APP['appid']}&secret={SECRET}".encode(),
    "list": b'{"appsecret": ["' + SECRET.encode() + b'", {"x": "]"}], "sig": ' + b"1" * 30 + b"}",
}


@pytest.mark.parametrize("name", MASKED_BODIES)
def test_the_secret_never_shows_in_the_journal(wide: TestClient, name: str) -> None:
    body = MASKED_BODIES[name]
    resp = wide.post("/cgi-bin/stable_token", content=body)
    if name in ("bom", "raw tab", "over 64 KiB", "escaped key"):  # the dialect took the secret: live
        assert "access_token" in resp.json(), resp.text
    text = wide.get(f"{P}/requests", headers=AUTH).text
    assert SECRET not in text and "***" in text
    if "access_token" in resp.json():
        assert resp.json()["access_token"] not in text


# 8: everything the journal holds can be shown ---------------------------------------------------
HOSTILE = [b'{"tag":{"name":"\\ud800"}}', b'{"tag":{"name":"\\udfff\\ud800x"}, "\\ud800": 1}',
           b'{"tag": {"id": NaN, "name": Infinity}}', b"[" * 900 + b"]" * 900, b"\xff\xfe\x00",
           b'{"tag":{"name":"a\\u0000b"}}']


def test_no_body_breaks_the_journal_view(small: TestClient) -> None:
    token = wx_token(small)
    for body in HOSTILE:
        for tok in ("x" * 20, token):
            got = small.post("/cgi-bin/tags/create", params={"access_token": tok}, content=body)
            assert got.status_code == 200
    small.get("/cgi-bin/tags/get?q=%ED%A0%80%FF", params={"access_token": token})
    resp = small.get(f"{P}/requests", headers=AUTH)
    assert resp.status_code == 200, resp.text[:200]
    shown = resp.json()["requests"]
    names = [e["request_body"]["tag"]["name"] for e in shown
             if isinstance(e["request_body"], dict) and "tag" in e["request_body"]]
    assert "\\ud800" in names  # a lone surrogate is shown as its escape
    assert json.loads(resp.content)  # strict JSON: no NaN
