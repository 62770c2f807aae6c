"""The admin surfaces as tests meet them: the one place that builds the app and its client as a
trusted local operator would, the route table read from the app itself, the hostile material, and
the environment a route's turn runs in. Used by tests/test_hostile_admin.py and
tests/test_control_fuzz.py."""

from __future__ import annotations

import atexit
import base64
import json
import logging
import re
import shutil
import tempfile
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.routing import Mount
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from polytag import dialects
from polytag.app import create_app
from polytag.config import Settings
from polytag.core.service import Service
from polytag.store import open_store
from tests.dialects.juzibot.conftest import MAIN as JZ_MAIN
from tests.dialects.tencent_im.conftest import app_entry
from tests.dialects.wechat.conftest import F1
from tests.dialects.wechat.conftest import MAIN as WX_MAIN

FOUND = dialects.discover()
VENDOR_PREFIXES = tuple(d.prefix.rstrip("/") + "/" for d in FOUND.values())
CAP = 4096  # the body cap of the small-cap client
CHUNK = 1024  # streamed bodies arrive in chunks of this size
NATIVE = "crm"  # the seeded native app the templates' {app} names
SWEEP_APPS = (NATIVE, "hx")  # apps read again after each route's turn ("hx" is created by the examples)


# --- the one place that builds the app and its client ------------------------------------
# Tests reach the admin surfaces as a trusted local operator would: Host 127.0.0.1, a loopback
# peer, no Origin, JSON bodies marked as JSON. When the admin guard needs more (a Settings field,
# a header), add it here: every test of this module builds its app and client through these two.
BASE_URL = "http://127.0.0.1"
PEER = ("127.0.0.1", 50000)
TRUSTED_HEADERS: dict[str, str] = {}
JSON_TYPE = {"content-type": "application/json"}


def build_app(service: Service, **overrides: Any) -> Any:
    return create_app(Settings(db=service.store.url, **overrides), service)


def admin_client(service: Service, **overrides: Any) -> TestClient:
    """A client over a fresh app on `service`; a server exception comes back as its 500 (and is
    kept in TRACES, for the failure report)."""
    return TestClient(Recorder(build_app(service, **overrides)), base_url=BASE_URL, client=PEER,
                      headers=TRUSTED_HEADERS, raise_server_exceptions=False)


TRACES: list[str] = []  # what raised since the last request: "Type: message at file:line"


def _summary(exc: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/polytag/" in f.filename
              and "site-packages" not in f.filename] or traceback.extract_tb(exc.__traceback__)
    where = f" at {frames[-1].filename.rsplit('/src/', 1)[-1]}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}: {str(exc)[:100]}{where}"


class Recorder:
    """Keeps the summary of an exception that escapes the app (Starlette re-raises after its 500)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            TRACES.append(_summary(exc))
            raise


class LoggedErrors(logging.Handler):
    """Keeps the summary of an exception a handler caught and logged (the native API's 500s)."""

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            TRACES.append(_summary(record.exc_info[1]))


# --- the route table -----------------------------------------------------------------------
@dataclass(frozen=True)
class Surface:
    path: str  # the template, e.g. /v1/apps/{app}/tags/{tag}
    methods: tuple[str, ...]


def _walk(obj: Any, prefix: str) -> Iterator[tuple[str, tuple[str, ...]]]:
    """(path template, methods) of every route under an ASGI app: Starlette routers, mounts,
    FastAPI's included routers, middleware (`.app`), and the dispatcher's raw prefixes."""
    prefixes = getattr(obj, "prefixes", None)
    if isinstance(prefixes, Mapping):  # raw ASGI apps by path prefix: any method reaches them
        for path in prefixes:
            yield prefix + path.rstrip("/"), ("GET", "POST", "PUT", "DELETE")
    routes = getattr(obj, "routes", None)
    if routes is not None:
        for route in routes:
            if isinstance(route, Mount):
                yield from _walk(route.app, prefix + route.path)
            elif hasattr(route, "effective_route_contexts"):  # FastAPI's included routers
                for ctx in route.effective_route_contexts():
                    yield prefix + ctx.path, tuple(ctx.methods or ("GET",))
            elif isinstance(getattr(route, "path", None), str):
                yield prefix + route.path, tuple(getattr(route, "methods", None) or ("GET",))
        return
    for attr in ("rest", "app"):
        inner = getattr(obj, attr, None)
        if inner is not None:
            yield from _walk(inner, prefix)
            return


def surfaces(app: Any) -> list[Surface]:
    """Every non-vendor route of `app`, methods merged by path template."""
    found: dict[str, set[str]] = {}
    for path, methods in _walk(app, ""):
        if (path + "/").startswith(VENDOR_PREFIXES):
            continue
        found.setdefault(path, set()).update(methods)
    return [Surface(p, tuple(sorted(m))) for p, m in sorted(found.items())]


def _openapi(app: Any) -> dict[str, Any]:
    with TestClient(app, base_url=BASE_URL, client=PEER) as c:  # a loopback caller (polytag.guard)
        doc: dict[str, Any] = c.get("/openapi.json").json()
    return doc


# The table is read once at import (pytest parametrizes from it), from an app over a throwaway db.
_DIR = tempfile.mkdtemp(prefix="polytag-hostile-admin-")
atexit.register(shutil.rmtree, _DIR, True)
_SERVICE = Service(open_store(f"sqlite:///{Path(_DIR) / 'routes.db'}"), dialects.presets(FOUND))
atexit.register(_SERVICE.store.close)
_APP = build_app(_SERVICE)
SURFACES = surfaces(_APP)
OPENAPI = _openapi(_APP)
WRONG_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


def _ids(s: Surface) -> str:
    return s.path


# --- hostile material ------------------------------------------------------------------------
BIG = "1" + "0" * 400  # 10**400 as JSON text
DIGITS_5000 = "9" * 5000  # over CPython's int-from-text digit limit
RAW_BODIES: list[bytes] = [
    b"", b" ", b"{", b"}", b"[", b"[]", b"{}", b"null", b"true", b"123", b'"x"', b"\x00", b"\xff\xfe",
    b"\xef\xbb\xbf{}", b'\xef\xbb\xbf{"app": "crm"}', b'{"a":1}garbage', b"{'a': 1}",
    b"[" * 100_000, b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
    b'{"apps":' + b"[" * 10_000 + b"]" * 10_000 + b"}",
    b'{"x": NaN}', b'{"x": Infinity, "size": -Infinity}', b'{"x": 1e400}',
    f'{{"size": {BIG}, "advance_s": {BIG}, "set": {BIG}, "order": {BIG}}}'.encode(),
    f'{{"size": {DIGITS_5000}, "order": {DIGITS_5000}, "name": "n"}}'.encode(),
    b'{"advance_s": 1e308}', b'{"advance_s": -1e308}', b'{"set": 1e308}', b'{"set": -1e308}',
    b'{"set": "9999-12-31T23:59:59"}', b'{"set": "0001-01-01"}', b'{"real": "yes"}',
    b'{"app": "\\ud800", "name": "\\udfff", "dialect": "x\\udc80y"}',
    b'{"app": "\xed\xa0\x80", "name": "\xed\xa0\x80"}',  # a surrogate as raw (invalid) UTF-8
    b'{"app": "a\\u0000b", "name": "a\\u0000b", "ids": ["\\u0000"]}',
    b'{"app": 5, "name": [], "size": "x", "advance_s": "1", "set": {}, "daily": [], "limits": "x",'
    b' "order": "1", "tags": 5, "apps": "x", "ids": {}, "pairs": 1, "expr": 5, "dialect": 1}',
    b'{"app": "crm", "app": null, "app": 1}',
    b'{"x": "' + b"y" * 900_000 + b'"}',  # under the default 1 MiB cap
    b'{"ids": [' + b",".join([b'"s"'] * 100_000) + b"]}",
    b'{"apps": [' + b",".join([b'{"dialect": "native", "name": "n"}'] * 2_000) + b"]}",
]
FIELD_VALUES: list[Any] = [
    None, True, False, 0, -1, 0.5, 2**31, 2**63, -(2**63) - 1, 10**30, -(10**30), 10**400,
    1e308, -1e308, 5e-324, "", "\x00", "a\x00b", "\ud800", "x\udfffy", "\ufeff", "\u202e", "😀",
    "x" * 100_000, "9" * 40, "NaN", "1e400", "-1", [], {}, [None], {"": None},
    json.loads("[" * 20 + "]" * 20), {"tag_name_max": "abc", "batch": 5},
]
PATH_VALUES: list[str] = [  # already URL-encoded path segments
    *(quote(v.encode("utf-8", "surrogatepass"), safe="")
      for v in ["\x00", "a\x00b", "\ud800", "x\udfffy", "\ufeff", "\u202e", "😀", " ", "\n", "\r\n", "-1",
                "0", "9" * 400, DIGITS_5000, "1e308", "NaN", "x" * 5000, "'", '"', "\\", "{app}",
                "<script>", "f" + "9" * 40]),
    "%FF", "%C0%AF", "%ED%A0%80", "%zz", "%", "..", "%2e%2e", "%2F", "%2F%2F", "%5C",
]
CURSORS = [base64.urlsafe_b64encode(f"o{n}".encode()).decode().rstrip("=")
           for n in ("9" * 30, "9" * 5000, "²", "-1", "")]
QUERY_VALUES: list[str] = [
    "", "\x00", "a\x00b", "\ud800", "x\udfffy", "\ufeff", "😀", "\u202e", "-1", "0", "9" * 40, "9" * 400,
    DIGITS_5000, "1e308", "-1e308", "NaN", "inf", "x" * 300, "true", "[]", "{}", "%", ",", "²", "１００",
    "2026-13-45T99:99", *CURSORS,
]
CONTROL_QUERY = ["app", "dialect", "path", "after", "since", "limit", "cursor", "size"]


def _query_keys(template: str) -> list[str]:
    """The route's query parameters from the OpenAPI document, plus the control plane's."""
    keys = set(CONTROL_QUERY)
    for op in OPENAPI.get("paths", {}).get(template, {}).values():
        keys |= {p["name"] for p in op.get("parameters", []) if p.get("in") == "query"}
    return sorted(keys)


def _qs(params: Mapping[str, str] | list[tuple[str, str]]) -> str:
    items = params.items() if isinstance(params, Mapping) else params
    return "&".join(f"{quote(k)}={quote(v.encode('utf-8', 'surrogatepass'), safe='')}" for k, v in items)


def _json(value: Any) -> bytes:
    return json.dumps(value).encode("utf-8", "surrogatepass")  # ASCII escapes: lone surrogates survive


UNIQ = "@uniq@"  # replaced by a number unique to the request (a create's name must be new to get far)


# valid bodies of the write routes: each field of each is replaced by every FIELD_VALUE in turn
# (a route with no example still gets RAW_BODIES and generated bodies)
def _examples(snapshot: Any) -> dict[tuple[str, str], list[Any]]:
    a = "/v1/apps/{app}"
    return {
        ("POST", "/_polytag/reset"): [{"app": NATIVE}],
        ("POST", "/_polytag/seed"): [{"apps": [{"dialect": "native", "name": "hx", "tags": ["t"],
                                                "subjects": ["s1"], "limits": {"tag_name_max": 20}}]},
                                     {"apps": [{"dialect": "wechat", "appid": "wxhostile0000001",
                                                "secret": "s", "followers": ["o1"], "tags": [{"name": "t"}]}]}],
        ("POST", "/_polytag/snapshot"): [snapshot],
        ("PUT", "/_polytag/requests"): [{"size": 100}],
        ("POST", "/_polytag/faults"): [{"dialect": "wechat", "error": 45009, "times": 1, "path": "tags/get",
                                        "latency_ms": 1, "probability": 0.5, "seed": 1}],
        ("POST", "/_polytag/clock"): [{"advance_s": 1}, {"set": "2030-01-01T00:00:00Z"}, {"real": True}],
        ("POST", "/_polytag/quotas"): [{"app": WX_MAIN["appid"], "daily": {"tags/create": 10}}],
        ("POST", "/v1/apps"): [{"name": "hx", "limits": {"tag_name_max": 20}}],
        ("POST", f"{a}/tags"): [{"name": f"new-tag-{UNIQ}", "order": 1}],
        ("PATCH", f"{a}/tags/{{tag}}"): [{"name": "vip", "order": 2}],
        ("POST", f"{a}/groups"): [{"name": f"g-{UNIQ}", "order": 1, "tags": [{"name": f"gt-{UNIQ}", "order": 1}]}],
        ("PATCH", f"{a}/groups/{{group}}"): [{"name": f"g2-{UNIQ}", "order": 3}],
        ("POST", f"{a}/subjects"): [{"ids": ["s1", "s2"]}],
        ("POST", f"{a}/memberships/add"): [{"pairs": [{"subject": "u1", "tag": "vip"}],
                                            "create_subjects": True, "create_tags": True}],
        ("POST", f"{a}/memberships/remove"): [{"pairs": [{"subject": "u1", "tag": "vip"}]}],
        ("POST", f"{a}/audiences/count"): [{"expr": "vip & !other"}, {"expr": {"and": [{"tag": "vip"}]}}],
        ("POST", f"{a}/audiences/members"): [{"expr": "vip", "cursor": CURSORS[0], "limit": 10}],
        ("POST", f"{a}/audiences/export"): [{"expr": "vip"}],
    }


def _spots(doc: Any, limit: int = 40) -> list[tuple[Any, ...]]:
    """Paths to the nodes of a JSON document (breadth first, at most `limit`; the root excluded)."""
    out: list[tuple[Any, ...]] = []
    queue: list[tuple[tuple[Any, ...], Any]] = [((), doc)]
    while queue and len(out) < limit:
        path, node = queue.pop(0)
        kids = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for k, v in kids:
            out.append((*path, k))
            queue.append(((*path, k), v))
    return out[:limit]


def _replace(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(doc, dict):
        return {**doc, head: _replace(doc[head], rest, value)}
    copy = list(doc)
    copy[head] = _replace(doc[head], rest, value)
    return copy


def _label(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 24 else f"{text[:12]}..({len(text)} chars)"


def mutations(example: Any) -> Iterator[tuple[str, bytes]]:
    """(what changed, body): each node of the example replaced by each FIELD_VALUE in turn."""
    for spot in _spots(example):
        for value in FIELD_VALUES:
            yield f"[{'.'.join(map(str, spot))} = {_label(value)}]", _json(_replace(example, spot, value))
    if isinstance(example, dict):  # a key the route does not know, and the example's keys dropped
        yield "[+unknown_field]", _json({**example, "unknown_field": 1})
        for key in example:
            yield f"[-{key}]", _json({k: v for k, v in example.items() if k != key})


# --- the environment ---------------------------------------------------------------------------
SEED: dict[str, Any] = {"apps": [
    {"dialect": "native", "name": NATIVE, "tags": ["vip", "other"], "subjects": ["u1", "u2"]},
    {"dialect": "wechat", **WX_MAIN, "followers": [F1], "tags": [{"name": "广东"}]},
    app_entry(), JZ_MAIN]}


class Env:
    """The client, what fills a template's parameters, and the failures seen so far."""

    def __init__(self, client: TestClient, reseed: Callable[[], None]) -> None:
        self.client, self.reseed = client, reseed
        self.failures: list[str] = []
        self.sent = 0
        self.fill: dict[str, str] = {}
        self.refresh()
        self.snapshot = client.get("/_polytag/snapshot", params={"app": NATIVE}).json()

    def refresh(self) -> None:
        groups = self.client.get(f"/v1/apps/{NATIVE}/groups").json()
        if not groups:
            self.client.post(f"/v1/apps/{NATIVE}/groups", headers=JSON_TYPE,
                             content=_json({"name": "grp", "tags": [{"name": "in-group"}]}))
            groups = self.client.get(f"/v1/apps/{NATIVE}/groups").json()
        fault = self.client.post("/_polytag/faults", headers=JSON_TYPE,
                                 content=_json({"dialect": "wechat", "error": 45009, "times": 1,
                                                "path": "nothing/here"})).json()
        self.fill = {"app": NATIVE, "tag": "vip", "subject": "u1", "name": "index.html",
                     "group": groups[0]["id"] if isinstance(groups, list) and groups else "x",
                     "fault_id": fault.get("id", "f1") if isinstance(fault, dict) else "f1"}

    def url(self, template: str, hostile: tuple[str, str] | None = None, query: str = "",
            app: str | None = None) -> str:
        def sub(m: re.Match[str]) -> str:
            name = m.group(1)
            if hostile and name == hostile[0]:
                return hostile[1]
            if name == "app" and app is not None:
                return quote(app, safe="")
            return quote(self.fill.get(name, "x"), safe="")

        return PARAM.sub(sub, template) + (f"?{query}" if query else "")

    def send(self, method: str, url: str, body: bytes | None = None, headers: Mapping[str, str] | None = None,
             note: str = "") -> int:
        self.sent += 1
        if body is not None:
            body = body.replace(UNIQ.encode(), str(self.sent).encode())
        TRACES.clear()
        try:
            resp = self.client.request(method, url, content=body,
                                       headers=dict(headers if headers is not None else JSON_TYPE))
            status, text = resp.status_code, resp.text[:300]
        except Exception as exc:  # the client itself gave up (a server error it could not turn into 500)
            status, text = 599, f"{type(exc).__name__}: {exc}"[:300]
        if status >= 500:
            shown = (body or b"")[:60]
            cause = TRACES[-1] if TRACES else f"no traceback; answer {text[:120]!r}"
            self.failures.append(f"{method} {url[:100]} body={shown!r}{'...' if body and len(body) > 60 else ''}"
                                 f"{' ' + note if note else ''} -> {status} [{cause}]")
        return status

    def sweep(self, after: str) -> None:
        """Every GET route again, for each app of SWEEP_APPS: stored input must not break reads."""
        for s in SURFACES:
            if "GET" not in s.methods:
                continue
            for app in SWEEP_APPS if "{app}" in s.path else (None,):
                self.send("GET", self.url(s.path, app=app), None, {}, note=f"(read after {after})")

    def restore(self, after: str, fill: bool = True) -> None:
        """Back to the seeded state (the clock real, no faults, the seed re-applied: what a write
        renamed or deleted is there again), so the next request meets what the templates name."""
        self.client.post("/_polytag/clock", headers=JSON_TYPE, content=b'{"real": true}')
        self.client.delete("/_polytag/faults")
        try:
            self.reseed()
        except Exception as exc:
            self.failures.append(f"re-seeding after {after} raised {_summary(exc)}")
        if fill:
            self.refresh()

    def verdict(self, what: str) -> None:
        print(f"\n{what}: {self.sent} requests, {len(self.failures)} server errors")
        for line in self.failures:
            print(f"  SERVER ERROR {line}")
        shown = "\n".join(self.failures[:40])
        more = f"\n... and {len(self.failures) - 40} more" if len(self.failures) > 40 else ""
        assert not self.failures, f"{len(self.failures)} server errors in {self.sent} requests:\n{shown}{more}"


# keys a control-plane body may hold (and edge keys): what generated bodies draw their keys from
ADMIN_KEYS = ["app", "apps", "name", "dialect", "size", "advance_s", "set", "real", "daily", "limits", "order",
              "group", "tags", "ids", "pairs", "subject", "tag", "expr", "cursor", "limit", "error", "latency_ms",
              "probability", "times", "seed", "path", "create_subjects", "create_tags", "and", "or", "not",
              "tag_name_max", "batch", "subjects", "appid", "secret", "sdkappid", "key", "token", "followers",
              "members", "accounts", "customers", "groups", "0", "", "\x00", "\ud800"]
