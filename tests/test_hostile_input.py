"""Every endpoint of every dialect, fed hostile input: never a 5xx, always the dialect's envelope.

Bodies: malformed JSON, valid-shaped objects with wrong types, arbitrary JSON, raw bytes, nesting
10,000 deep, duplicate keys, huge strings, unicode edge cases (lone surrogates, NUL, astral, RTL,
BOM), oversize lists; hostile query strings; and the request body cap (Settings.max_body_bytes).
The "system error" codes are what a dialect answers for an exception nobody foresaw, so none may
appear. What differs per dialect (its app, credentials, envelope, codes) comes from the
`PROFILE` in its own test folder (tests/hostile_profile.py), found for every dialect the server
discovers: a new dialect is covered without editing this file. Deterministic (derandomize=True).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from polytag import dialects
from polytag.app import create_app
from polytag.config import Settings
from polytag.core.service import Service
from tests.conftest import IN_PROCESS
from tests.hostile_profile import profiles

FOUND = dialects.discover()
ENDPOINTS = [(name, ep.path) for name in sorted(FOUND) for ep in FOUND[name].endpoints]
PROFILES = profiles(sorted(FOUND))
REAL_IDS = [i for p in PROFILES.values() for i in p.ids]  # ids that exist: edge values that are real
CASES: dict[str, int] = {}  # requests checked, by test (printed at the end of each test)

CAP = 4096  # the body cap of the small-cap client

# field names the dialects read (so wrong types reach the validators, not just "missing")
KEYS = sorted({k for p in PROFILES.values() for k in p.body_keys}) + ["0", "1", "0\x00", "\u202e", ""]
EDGE = ["", "\x00", "a\x00b", "\ud800", "\udfff", "x\udc80y", "😀", "\U0010ffff", "𝕏" * 40, "\u202eabc\u202c",
        "\u200f\u0627\u0644", "\ufeff", "e\u0301", "\u2028\u2029", "\x7f\x1b[31m", "null", "0", "-1",
        "1e400", "NaN", "9" * 40, *REAL_IDS, "x" * 300]
QUERY_EDGE = [*EDGE[:14], "9" * 40, "x" * 300]
TEXT = st.one_of(st.sampled_from(EDGE), st.text(max_size=20),
                 st.text(st.characters(codec=None, exclude_categories=()), max_size=8))
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(min_value=-2**70, max_value=2**70),
                    st.floats(allow_nan=False), st.sampled_from([0, 1, 100, 2**31, 2**63, -2**63 - 1, 0.5]),
                    TEXT)
JSON = st.recursive(SCALARS, lambda kids: st.one_of(st.lists(kids, max_size=4),
                                                    st.dictionaries(st.sampled_from(KEYS) | TEXT, kids,
                                                                    max_size=4)),
                    max_leaves=12)
SHAPED = st.dictionaries(st.sampled_from(KEYS), JSON, min_size=1, max_size=6)
OVERSIZE = st.builds(lambda k, n, v: {k: [v] * n}, st.sampled_from(KEYS), st.sampled_from([51, 101, 501, 5000]),
                     st.one_of(st.sampled_from([*REAL_IDS, "xiaojun012", 100, "", *({"openid": i} for i in REAL_IDS),
                                                None]), TEXT))


def _json_bytes(value: Any, ascii_only: bool) -> bytes:
    return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


@st.composite
def _duplicate_keys(draw: st.DrawFn) -> bytes:
    pairs = draw(st.lists(st.tuples(st.sampled_from(KEYS[:12] + KEYS[15:20] + KEYS[37:45]), JSON),
                          min_size=2, max_size=6))
    pairs.append(pairs[0])  # the first key again, last
    inner = ",".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in pairs)
    return ("{" + inner + "}").encode("utf-8", "surrogatepass")


BODIES = st.one_of(
    st.builds(_json_bytes, JSON, st.booleans()),
    st.builds(_json_bytes, SHAPED, st.booleans()),
    st.builds(_json_bytes, OVERSIZE, st.just(True)),
    _duplicate_keys(),
    st.binary(max_size=64),
    st.builds(lambda b: b[: len(b) // 2], st.builds(_json_bytes, SHAPED, st.just(False))),  # truncated
)
QUERY = st.dictionaries(st.sampled_from(["access_token", "token", "sdkappid", "identifier", "usersig",
                                         "random", "contenttype", "openid", "next_openid", "lang", "tagid",
                                         "grant_type", "appid", "secret", "id", "groupId", "tagId"]),
                        TEXT, max_size=3)

DEEP = [b"[" * 10_000 + b"]" * 10_000, b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
        b"[" * 10_000, b'{"tag":' + b"[" * 10_000 + b"]" * 10_000 + b"}"]
RAW = [b"", b" ", b"\n", b"{", b"}", b"[]", b"{}", b"null", b"true", b"123", b'"x"', b"\xff\xfe", b"\xef\xbb\xbf{}",
       b"\x00", b'{"a":1}garbage', b'{"tagid": NaN}', b'{"tagid": Infinity}', b'{"tagid": 1e400}',
       b'{"tagid": 100, "tagid": "x", "tagid": null}', b'{"openid_list": ["\\ud800"], "tagid": 100}',
       b'{"tag": {"name": "a\\u0000b"}, "openid": "o\\u0000"}', b'{"name": "\xed\xa0\x80"}',
       b'{"MsgRandom": 1, "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "\\udfff"}}]}',
       b'{"groupName": "\\u202e\\u0000", "tags": [{"name": "\xf0\x9f\x98\x80"}]}',
       b'{"x": "' + b"y" * 900_000 + b'"}',  # huge but under the default 1 MiB cap
       b'{"openid_list": [' + b",".join([b'"o"'] * 100_000) + b"]}",
       b'{"Accounts": [' + b",".join([b'{"UserID":"u"}'] * 20_000) + b"]}",
       *DEEP]


def check(name: str, resp: Any) -> dict[str, Any]:
    """HTTP < 500, a JSON object in the dialect's envelope, and no system-error code."""
    assert resp.status_code < 500, (resp.status_code, resp.text[:500])
    assert resp.status_code == 200, (resp.status_code, resp.text[:500])  # every dialect answers 200
    assert resp.headers["content-type"].startswith("application/json"), resp.headers
    body = json.loads(resp.content)
    assert isinstance(body, dict), body
    profile = PROFILES[name]
    if profile.always_coded or profile.envelope[0] in body:  # data answers of some carry no code
        assert set(profile.envelope) <= set(body), body
        assert FOUND[name].code_of(body) not in profile.system_errors, body
    return body


def _count(test: str, n: int = 1) -> None:
    CASES[test] = CASES.get(test, 0) + n


class Env:
    """One seeded app per dialect and the query string that authenticates a call to it."""

    def __init__(self, client: TestClient, auth: dict[str, dict[str, str]]) -> None:
        self.client, self.auth = client, auth

    def url(self, name: str, path: str, extra: dict[str, str] | None = None, override: bool = False) -> str:
        params = {**self.auth[name], **(extra or {})} if override else {**(extra or {}), **self.auth[name]}
        qs = "&".join(f"{quote(k)}={quote(v.encode('utf-8', 'surrogatepass'), safe='')}"
                      for k, v in params.items())
        return f"{FOUND[name].prefix}/{path}?{qs}"

    def send(self, name: str, path: str, body: bytes, method: str = "POST",
             extra: dict[str, str] | None = None, override: bool = False) -> dict[str, Any]:
        return check(name, self.client.request(method, self.url(name, path, extra, override), content=body))


def _seed(seeded: Callable[[dict[str, Any]], Any]) -> None:
    seeded({"apps": [dict(p.entry) for p in PROFILES.values()]})


def _env(client: TestClient) -> Env:
    return Env(client, {name: p.auth(client) for name, p in PROFILES.items()})


@pytest.fixture
def env(client: TestClient, seeded: Callable[[dict[str, Any]], Any]) -> Env:
    _seed(seeded)
    return _env(client)


@pytest.fixture
def capped(service: Service, seeded: Callable[[dict[str, Any]], Any]) -> Iterator[Env]:
    _seed(seeded)
    app = create_app(Settings(db=service.store.url, max_body_bytes=CAP, **IN_PROCESS), service)
    with TestClient(app) as c:
        yield _env(c)


@pytest.mark.parametrize("name", sorted(FOUND))
def test_raw_bodies(env: Env, name: str) -> None:
    """Fixed hostile bodies on every endpoint of the dialect, with its methods and a wrong one."""
    for ep in FOUND[name].endpoints:
        for method in (*ep.methods, "PUT"):
            for raw in RAW:
                env.send(name, ep.path, raw, method)
                _count("raw_bodies")
    print(f"\n{name}: {CASES['raw_bodies']} raw-body cases so far")


@pytest.mark.parametrize("name", sorted(FOUND))
def test_hostile_query_strings(env: Env, name: str) -> None:
    """Auth parameters replaced by edge values: the dialect's auth codes, never a system error."""
    keys = PROFILES[name].auth_keys
    for ep in FOUND[name].endpoints:
        for key in keys:
            for value in QUERY_EDGE:
                env.send(name, ep.path, b"{}", ep.methods[0], {key: value}, override=True)
                _count("query_strings")
    print(f"\n{name}: {CASES['query_strings']} query-string cases so far")


@settings(max_examples=400, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(endpoint=st.sampled_from(ENDPOINTS), body=BODIES, query=QUERY, override=st.booleans())
def test_generated_bodies(env: Env, endpoint: tuple[str, str], body: bytes, query: dict[str, str],
                          override: bool) -> None:
    name, path = endpoint
    env.send(name, path, body, "POST", query, override)
    env.send(name, path, body, "GET", query)
    _count("generated", 2)


def test_generated_bodies_count() -> None:
    """Reports how many generated requests the property test sent (run after it, same module)."""
    print(f"\ngenerated: {CASES.get('generated', 0)} requests")


@pytest.mark.parametrize("name", sorted(FOUND))
def test_body_cap(capped: Env, name: str) -> None:
    """Past the cap, every endpoint answers the dialect's cap code in its envelope; at the cap, not."""
    expected, code_of = PROFILES[name].cap_code, FOUND[name].code_of
    over = b'{"x":"' + b"y" * CAP + b'"}'
    at = b'{"x":"' + b"y" * (CAP - 8) + b'"}'
    assert len(at) == CAP
    for ep in FOUND[name].endpoints:
        for method in (*ep.methods, "PUT"):
            got = capped.send(name, ep.path, over, method)
            assert code_of(got) == expected, (ep.path, got)
            if PROFILES[name].checks_at_cap and method in ep.methods:  # at the cap: not refused
                got = capped.send(name, ep.path, at, method)
                assert code_of(got) != expected, got
            _count("body_cap", 2)

    def chunks() -> Iterator[bytes]:  # no Content-Length: the cap holds while streaming
        for _ in range(100):
            yield b"y" * 1000

    ep = FOUND[name].endpoints[-1]
    resp = capped.client.request("POST", capped.url(name, ep.path), content=chunks())
    got = check(name, resp)
    assert code_of(got) == expected, got
    _count("body_cap")


def test_default_cap_is_one_mib(env: Env) -> None:
    assert Settings().max_body_bytes == 1024 * 1024
    over = b" " * (1024 * 1024 + 1)
    for name, profile in PROFILES.items():
        got = env.send(name, profile.cap_path, over)
        assert FOUND[name].code_of(got) == profile.cap_code, (name, got)


def test_native_api_body_cap(service: Service) -> None:
    app = create_app(Settings(db=service.store.url, max_body_bytes=CAP, **IN_PROCESS), service)
    with TestClient(app) as c:
        resp = c.post("/v1/apps", content=b'{"x":"' + b"y" * CAP + b'"}',
                      headers={"content-type": "application/json"})
        assert resp.status_code == 413, resp.text
        assert resp.headers["content-type"] == "application/problem+json"
        assert resp.json()["limit"] == "body_bytes"
        resp = c.get("/openapi.json")
        assert resp.status_code == 200


def test_env_sets_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLYTAG_MAX_BODY_BYTES", "123")
    assert Settings().max_body_bytes == 123
