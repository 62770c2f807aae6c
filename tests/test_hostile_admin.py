"""The admin surfaces fed hostile input: never a 5xx, on either backend.

Every route that is not a vendor dialect's (the control plane `/_polytag/*`, the native API
`/v1/*`, `/metrics`, the console, the API docs) is found in the app's own route table, so a new
route is covered without editing this module (`test_the_route_table_is_walked` checks the walk
finds what the app serves). Each route, at each of its methods and a few it does not have, gets:
malformed JSON, 100,000 `[`, deep nesting, lone surrogates (escaped and as raw bytes), NUL,
huge numbers (10**400, 1e308, 5,000 digits), wrong types, bodies near and over the body cap,
odd content types, hostile path parameters and query strings (up to 64 KB), and every field of
a valid example body replaced in turn by a hostile value. After each route's turn every GET
route is read again: what a write stored must not break a later read. Bodies past the cap must
not be read past it (measured by the bytes the app pulls). Deterministic (derandomize=True).

The vendor dialects have their own module (tests/test_hostile_input.py). Seeds asking for
`{generate: N}` subjects are left out on purpose: on a server without a bound that exhausts the
test machine's memory (its own regression test guards it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.types import Message

from polytag.core.service import Service
from tests.admin_surfaces import (
    ADMIN_KEYS,
    CAP,
    CHUNK,
    CONTROL_QUERY,
    NATIVE,
    OPENAPI,
    PARAM,
    PATH_VALUES,
    PEER,
    QUERY_VALUES,
    RAW_BODIES,
    SEED,
    SURFACES,
    TRUSTED_HEADERS,
    VENDOR_PREFIXES,
    WRONG_METHODS,
    Env,
    LoggedErrors,
    Surface,
    _examples,
    _ids,
    _json,
    _qs,
    _query_keys,
    admin_client,
    mutations,
)
from tests.dialects.juzibot.conftest import MAIN as JZ_MAIN
from tests.dialects.tencent_im.conftest import SDKAPPID, app_entry, gen_sig
from tests.dialects.tencent_im.conftest import query as im_query
from tests.dialects.wechat.conftest import MAIN as WX_MAIN
from tests.dialects.wechat.conftest import get_token


@pytest.fixture
def logged() -> Iterator[None]:
    handler = LoggedErrors(logging.ERROR)
    logging.getLogger().addHandler(handler)
    yield
    logging.getLogger().removeHandler(handler)


@pytest.fixture
def env(service: Service, seeded: Callable[[dict[str, Any]], Any], logged: None) -> Iterator[Env]:
    seeded(SEED)
    with admin_client(service) as c:
        yield Env(c, lambda: seeded(SEED))


@pytest.fixture
def capped(service: Service, seeded: Callable[[dict[str, Any]], Any], logged: None) -> Iterator[Env]:
    seeded(SEED)
    with admin_client(service, max_body_bytes=CAP) as c:
        yield Env(c, lambda: seeded(SEED))


# --- the tests ---------------------------------------------------------------------------------
def test_the_route_table_is_walked() -> None:
    """The walk finds the control plane, the raw no-op route, /metrics and every OpenAPI path."""
    paths = {s.path for s in SURFACES}
    assert {"/_polytag/health", "/_polytag/noop", "/_polytag/seed", "/metrics"} <= paths, paths
    assert set(OPENAPI["paths"]) <= paths, set(OPENAPI["paths"]) - paths
    assert not any((p + "/").startswith(VENDOR_PREFIXES) for p in paths)
    assert all(s.methods for s in SURFACES)


@pytest.mark.parametrize("surface", SURFACES, ids=_ids)
def test_hostile_bodies_and_queries(env: Env, surface: Surface) -> None:
    """Every method of the route (and the ones it lacks) with raw, mutated and oddly typed bodies,
    then hostile query strings; then every GET route again."""
    examples = _examples(env.snapshot)
    for method in surface.methods:
        env.restore(f"{surface.path} before {method}")  # a DELETE before must not leave a PATCH nothing
        url = env.url(surface.path)
        for body in RAW_BODIES:
            if env.send(method, url, body) < 300 and method not in ("GET", "HEAD"):
                env.restore(f"{method} {surface.path} {body[:40]!r}", fill=False)
        for example in examples.get((method, surface.path), []):
            env.send(method, url, _json(example))
            for what, body in mutations(example):
                if env.send(method, url, body, note=what) < 300:
                    env.restore(f"{method} {surface.path} {what}", fill=False)
        for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                      "application/json; charset=latin-1", "application/json\x00", ""):
            env.send(method, url, b'{"app": "crm", "size": 10}', {"content-type": ctype})
            env.send(method, url, b"app=crm&size=10&a=%ff%00", {"content-type": ctype})
        keys = _query_keys(surface.path)
        for value in QUERY_VALUES:
            env.send(method, env.url(surface.path, query=_qs({k: value for k in keys})), b"")
        env.send(method, env.url(surface.path, query=_qs([("app", NATIVE)] * 2000)), b"")
        env.send(method, env.url(surface.path, query="app=" + "x" * 64_000), b"")
        env.send(method, env.url(surface.path, query="%FF%FE=%ED%A0%80&%00=%00&&&=&a"), b"")
    for method in WRONG_METHODS:
        if method not in surface.methods:
            for body in (b"", b"{}", b"[" * 100_000, b'{"x": "\\ud800"}'):
                env.send(method, env.url(surface.path), body)
    env.sweep(f"{surface.path} bodies")
    env.verdict(surface.path)


TEMPLATED = [s for s in SURFACES if PARAM.search(s.path)]


@pytest.mark.parametrize("surface", TEMPLATED, ids=_ids)
def test_hostile_path_parameters(env: Env, surface: Surface) -> None:
    """Each parameter of the template replaced by hostile segments, at every method."""
    for name in PARAM.findall(surface.path):
        for value in PATH_VALUES:
            url = env.url(surface.path, hostile=(name, value))
            for method in surface.methods:
                body = _json(_examples(env.snapshot).get((method, surface.path), [{}])[0])
                env.send(method, url, body)
    env.sweep(f"{surface.path} path parameters")
    env.verdict(surface.path)


def test_bodies_over_the_cap_are_not_read_past_it(capped: Env) -> None:
    """Every route and method, a body streamed without Content-Length well past the cap: the app
    pulls at most the cap plus a chunk (a route that never reads the body pulls nothing)."""
    total = CAP * 32
    over: list[str] = []
    for surface in SURFACES:
        for method in (*surface.methods, "POST", "PUT"):
            url = capped.url(surface.path)
            status, pulled = capped.client.portal.call(_stream, capped.client.app, method, url, total)
            capped.sent += 1
            if status >= 500:
                capped.failures.append(f"{method} {url} streamed {total} bytes -> {status}")
            if pulled > CAP + CHUNK:
                over.append(f"{method} {url}: read {pulled} of {total} bytes (cap {CAP}) -> {status}")
    # and with the length declared, over the cap
    for surface in SURFACES:
        for method in surface.methods:
            capped.send(method, capped.url(surface.path), b'{"x":"' + b"y" * CAP + b'"}')
    capped.failures += over
    capped.verdict("streamed over the cap")


async def _stream(app: Any, method: str, url: str, total: int) -> tuple[int, int]:
    """Drive the ASGI app directly with a body of `total` bytes in CHUNKs; count what it pulls."""
    path, _, query = url.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query.encode(),
             "root_path": "", "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
                                         (b"transfer-encoding", b"chunked"),
                                         *((k.encode(), v.encode()) for k, v in TRUSTED_HEADERS.items())],
             "client": PEER, "server": ("127.0.0.1", 80), "state": {}, "extensions": {}}
    pulled = 0
    status = 0

    async def receive() -> Message:
        nonlocal pulled
        if pulled < total:
            pulled += CHUNK
            return {"type": "http.request", "body": b"x" * CHUNK, "more_body": pulled < total}
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    try:
        await app(scope, receive, send)
    except Exception:
        status = status or 599
    return status, pulled


EDGE_TEXT = ["", "\x00", "a\x00b", "\ud800", "\udfff", "😀", "\ufeff", "\u202eabc", "1e400", "NaN", "9" * 40,
             NATIVE, "vip", "wechat", "native", "x" * 300]
TEXT = st.one_of(st.sampled_from(EDGE_TEXT), st.text(max_size=12))
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                    st.sampled_from([0, 1, -1, 2**63, 10**30, 10**400, 1e308, -1e308, 0.5]),
                    st.floats(allow_nan=False), TEXT)


def _nest(kids: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.lists(kids, max_size=4), st.dictionaries(st.sampled_from(ADMIN_KEYS) | TEXT, kids, max_size=4))


JSON_VALUES = st.recursive(SCALARS, _nest, max_leaves=12)
ROUTES = [(m, s.path) for s in SURFACES for m in s.methods if m != "HEAD"]


@settings(max_examples=300, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(route=st.sampled_from(ROUTES), doc=st.dictionaries(st.sampled_from(ADMIN_KEYS), JSON_VALUES, max_size=6),
       raw=st.one_of(st.none(), st.binary(max_size=48)), query=st.dictionaries(
           st.sampled_from(CONTROL_QUERY), TEXT, max_size=3))
def test_generated_bodies(env: Env, route: tuple[str, str], doc: dict[str, Any], raw: bytes | None,
                          query: dict[str, str]) -> None:
    method, template = route
    env.failures.clear()
    env.send(method, env.url(template, query=_qs(query)), raw if raw is not None else _json(doc))
    assert not env.failures, env.failures


def test_stored_vendor_input_does_not_break_admin_reads(env: Env) -> None:
    """Hostile vendor calls land in the journal, the metrics and the store: every admin read after."""
    token = get_token(env.client, WX_MAIN)
    im = _qs(im_query(sig=gen_sig()))
    calls = [
        (f"/cgi-bin/tags/create?access_token={token}", b'{"tag":{"name":"\\ud800"}}'),
        (f"/cgi-bin/tags/create?access_token={token}", b'{"tag":{"name":"a\\u0000b"}}'),
        ("/cgi-bin/tags/create?access_token=%ED%A0%80", b'{"tag":{"name":"\\udfff"}}'),
        ("/cgi-bin/stable_token", b'\xef\xbb\xbf{"grant_type":"client_credential","appid":"'
         + WX_MAIN["appid"].encode() + b'","secret":"' + WX_MAIN["secret"].encode() + b'"}'),
        ("/cgi-bin/stable_token", b'{"grant_type":"client_credential","secret":"\\ud800","appid":"\xed\xa0\x80"}'),
        (f"/cgi-bin/tags/get?access_token={token}&x=" + "%ED%A0%80" * 100, b"\xff\xfe\x00"),
        (f"/v4/all_member_push/im_add_tag?{im}", b'{"UserTags":[{"To_Account":"\\ud800","Tags":["\\udfff"]}]}'),
        ("/api/v1/tag/create?token=" + JZ_MAIN["token"], b'{"groupName":"\\ud800","tags":[{"name":"\\u0000"}]}'),
        ("/cgi-bin/" + "%ED%A0%80" * 50, b"[" * 100_000),
    ]
    for url, body in calls:  # one at a time, the journal cleared between: each cause shows apart
        env.client.delete("/_polytag/requests")
        env.client.post(url, content=body)
        env.sweep(f"POST {url[:60]} {body[:40]!r}")
    for q in ({"app": "\ud800"}, {"path": "\x00"}, {"dialect": "\udfff"}, {"since": "\ud800"}):
        env.send("GET", "/_polytag/requests?" + _qs(q), None, {})
    env.verdict("admin reads after hostile vendor calls")


def test_seed_of_sdkappid_text(env: Env) -> None:
    """Seeding the IM app again with its sdkappid as text and as a huge number: a 4xx or accepted."""
    for sdk in (str(SDKAPPID), 10**400, -1, "\ud800"):
        env.send("POST", "/_polytag/seed", _json({"apps": [app_entry(sdkappid=sdk)]}))
    env.verdict("IM seeds")
