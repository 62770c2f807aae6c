"""polytag.guard in front of every admin surface (issue 15, findings 1, 2, 13, 15): Host names
(DNS rebinding), loopback peers without a key, cross-origin browser writes, JSON bodies, the
body cap; and the control plane's clock and deeply nested bodies never answering 500."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from polytag.app import create_app
from polytag.client import Client
from polytag.config import Settings
from polytag.control.sdk import Control
from polytag.guard import forwarded_for, same_origin, split_host

KEY = "guard-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
JSON = {"Content-Type": "application/json"}
WX = {"dialect": "wechat", "appid": "wxguard000000001", "secret": "s3cret", "followers": ["oG1"]}
FAULT = b'{"dialect": "wechat", "error": -1}'
# one read of each admin surface: native API, its schema, control plane, metrics, console
READS = ["/v1/apps", "/openapi.json", "/_polytag/requests", "/_polytag/snapshot", "/_polytag/faults",
         "/metrics", "/console/", "/console/session"]
CAP = 4096


def make(tmp_path: Path, key: str | None = None, peer: str = "127.0.0.1", host: str = "localhost:8080",
         **settings: Any) -> TestClient:
    """A TestClient that comes from `peer` and names `host` (no allowance for TestClient's own names)."""
    s = Settings(**{"db": f"sqlite:///{tmp_path / 'guard.db'}", "admin_key": key, "max_body_bytes": CAP, **settings})
    return TestClient(create_app(s), base_url=f"http://{host}", client=(peer, 40000), follow_redirects=False)


@pytest.fixture
def local(tmp_path: Path) -> Iterator[TestClient]:
    with make(tmp_path) as c:
        yield c


@pytest.fixture
def keyed(tmp_path: Path) -> Iterator[TestClient]:
    with make(tmp_path, KEY, peer="203.0.113.7", host="polytag.example:8443",
              allowed_hosts=("polytag.example",)) as c:
        yield c


def faults(c: TestClient, headers: dict[str, str] | None = None) -> list[Any]:
    got = c.get("/_polytag/faults", headers=headers or {})
    assert got.status_code == 200, got.text
    return list(got.json()["faults"])


# Host names (DNS rebinding) ------------------------------------------------------------------
@pytest.mark.parametrize("path", READS)
def test_a_foreign_host_name_is_refused_on_every_admin_surface(local: TestClient, path: str) -> None:
    got = local.get(path, headers={"Host": "evil.example"})
    assert got.status_code == 403, (path, got.text)
    assert "evil.example" in got.text and "--allowed-host" in got.text
    assert local.get(path).status_code == 200, path  # the same request by a loopback name


def test_a_foreign_host_name_is_refused_with_the_key_too(keyed: TestClient) -> None:
    for path in READS:
        got = keyed.get(path, headers={**AUTH, "Host": "rebound.attacker.example"})
        assert got.status_code == 403, (path, got.text)
        assert keyed.get(path, headers=AUTH).status_code == 200, path  # the operator's name


def test_problem_json_under_v1_and_error_documents_elsewhere(local: TestClient) -> None:
    got = local.get("/v1/apps", headers={"Host": "evil.example"})
    assert got.headers["content-type"] == "application/problem+json"
    assert got.json()["type"] == "/problems/host-not-allowed" and got.json()["status"] == 403
    got = local.get("/_polytag/requests", headers={"Host": "evil.example"})
    assert got.headers["content-type"] == "application/json" and "not allowed" in got.json()["error"]


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST:1", "127.0.0.1:8080", "[::1]:8080", "app.localhost",
                                  "192.0.2.10:8080", "[2001:db8::1]"])
def test_loopback_names_and_ip_addresses_are_accepted(local: TestClient, host: str) -> None:
    assert local.get("/v1/apps", headers={"Host": host}).status_code == 200


def test_allowed_hosts_from_settings_and_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLYTAG_ALLOWED_HOSTS", "tags.internal, *.corp.example")
    assert Settings().allowed_hosts == ("tags.internal", "*.corp.example")
    with make(tmp_path) as c:
        for host, status in [("tags.internal", 200), ("a.corp.example:80", 200), ("corp.example", 403),
                             ("tags.internal.evil.example", 403)]:
            assert c.get("/v1/apps", headers={"Host": host}).status_code == status, host


def test_health_is_open_to_any_host_name(local: TestClient) -> None:
    assert local.get("/_polytag/health", headers={"Host": "probe.example"}).status_code == 200


def test_vendor_paths_are_not_admin_surfaces(local: TestClient) -> None:
    got = local.get("/cgi-bin/token", params={"grant_type": "client_credential", "appid": "x", "secret": "y"},
                    headers={"Host": "api.weixin.qq.com"})
    assert got.status_code == 200 and got.json()["errcode"] != 0  # the dialect's answer, not the guard's


# Peers ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", READS)
def test_without_a_key_a_remote_peer_is_refused_everywhere(tmp_path: Path, path: str) -> None:
    with make(tmp_path, peer="203.0.113.7") as c:
        got = c.get(path)
        assert got.status_code == 403, (path, got.text)
        assert "loopback" in got.text


def test_without_a_key_a_forwarded_stranger_is_refused(local: TestClient) -> None:
    for name, value in [("X-Forwarded-For", "203.0.113.9"), ("X-Forwarded-For", "127.0.0.1, 198.51.100.2"),
                        ("X-Real-IP", "198.51.100.2"), ("Forwarded", 'for="[2001:db8::7]:4711";proto=https')]:
        assert local.get("/v1/apps", headers={name: value}).status_code == 403, (name, value)
    assert local.get("/v1/apps", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 200


def test_with_a_key_any_peer_that_holds_it(keyed: TestClient) -> None:
    assert keyed.get("/v1/apps").status_code == 401
    assert keyed.get("/v1/apps", headers=AUTH).status_code == 200
    assert keyed.get("/metrics", headers=AUTH).status_code == 200


def test_trusted_peers_only_by_explicit_setting(tmp_path: Path) -> None:
    with make(tmp_path, peer="testclient") as c:
        assert c.get("/v1/apps").status_code == 403
    with make(tmp_path, peer="testclient", trusted_peers=("testclient",)) as c:
        assert c.get("/v1/apps").status_code == 200


# Cross-origin writes and content types --------------------------------------------------------
def test_a_cross_site_text_plain_fault_is_refused(local: TestClient) -> None:
    got = local.post("/_polytag/faults", content=FAULT,
                     headers={"Origin": "http://evil.example", "Content-Type": "text/plain"})
    assert got.status_code == 403 and "cross-origin" in got.json()["error"]
    got = local.post("/_polytag/faults", content=FAULT,
                     headers={"Sec-Fetch-Site": "cross-site", "Content-Type": "application/json"})
    assert got.status_code == 403
    got = local.post("/_polytag/faults", content=FAULT,
                     headers={"Sec-Fetch-Site": "same-site", "Content-Type": "application/json"})
    assert got.status_code == 403
    assert faults(local) == []


def test_a_form_seed_is_refused(local: TestClient) -> None:
    got = local.post("/_polytag/seed", data={"apps": "x"})
    assert got.status_code == 415 and "application/json" in got.json()["error"]
    got = local.post("/_polytag/clock", content=b'{"advance_s": 60}', headers={"Content-Type": "text/plain"})
    assert got.status_code == 415
    got = local.post("/_polytag/clock", content=b'{"advance_s": 60}', headers={"Content-Type": ""})
    assert got.status_code == 415
    assert local.get("/_polytag/clock").json()["real"] is True


def test_same_origin_and_json_writes_pass(local: TestClient) -> None:
    for origin in ("http://localhost:8080", None):
        headers = {**JSON, "Sec-Fetch-Site": "same-origin", **({"Origin": origin} if origin else {})}
        assert local.post("/_polytag/faults", content=FAULT, headers=headers).status_code == 201
    assert local.post("/_polytag/faults", content=FAULT,
                      headers={"Content-Type": "application/vnd.polytag+json; charset=utf-8"}).status_code == 201
    assert len(faults(local)) == 3
    assert local.delete("/_polytag/faults").status_code == 200  # no body: no Content-Type needed


def test_native_api_writes_need_json_and_the_same_origin(local: TestClient) -> None:
    body = b'{"name": "crm"}'
    assert local.post("/v1/apps", content=body, headers={"Content-Type": "text/plain"}).status_code == 415
    got = local.post("/v1/apps", content=body, headers={**JSON, "Origin": "http://localhost:9999"})
    assert got.status_code == 403 and got.json()["type"] == "/problems/cross-origin"
    assert local.post("/v1/apps", content=body, headers={**JSON, "Origin": "null"}).status_code == 403
    assert local.get("/v1/apps").json() == []
    assert local.post("/v1/apps", content=body, headers=JSON).status_code == 201


def test_with_a_key_cross_origin_writes_are_refused_too(keyed: TestClient) -> None:
    got = keyed.post("/_polytag/faults", content=FAULT,
                     headers={**AUTH, **JSON, "Origin": "https://evil.example"})
    assert got.status_code == 403
    got = keyed.post("/_polytag/faults", content=FAULT, headers={**AUTH, "Content-Type": "text/plain"})
    assert got.status_code == 415
    got = keyed.post("/_polytag/faults", content=FAULT, headers={**AUTH, **JSON, "Origin": "https://polytag.example:8443"})
    assert got.status_code == 201
    assert len(faults(keyed, AUTH)) == 1


def test_the_sdks_send_json(tmp_path: Path) -> None:
    """The Python SDK, the control SDK and an in-process client pass the guard as they are."""
    app = create_app(Settings(db=f"sqlite:///{tmp_path / 'sdk.db'}"))
    with Client.in_process(app) as sdk:
        sdk.create_app("crm")
        sdk.create_tag("crm", "vip")
        control = Control(sdk.http)
        control.seed({"apps": [WX]})
        assert control.add_fault("wechat", error=-1)
        control.clock_advance(60)
        assert [a.name for a in sdk.apps()] == ["crm", WX["appid"]]


# Body caps -----------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/_polytag/seed", "/_polytag/faults", "/_polytag/snapshot", "/v1/apps"])
def test_admin_bodies_past_the_cap_are_413(local: TestClient, path: str) -> None:
    got = local.post(path, content=b'{"x": "' + b"y" * CAP + b'"}', headers=JSON)
    assert got.status_code == 413, got.text
    assert got.json()["limit"] == "body_bytes" and got.json()["allowed"] == CAP


def chunks_read(app: Any, path: str, chunks: int, size: int = 1024, headers: list[tuple[bytes, bytes]] | None = None
                ) -> tuple[int, int]:
    """(status, how many body chunks the app pulled) for a streamed body without Content-Length."""
    pulled = 0
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"y" * size, "more_body": pulled < chunks}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {"type": "http", "method": "POST", "path": path, "raw_path": path.encode(), "query_string": b"",
             "headers": [(b"host", b"localhost"), *(headers or [])], "client": ("127.0.0.1", 1),
             "server": ("127.0.0.1", 80), "scheme": "http", "http_version": "1.1", "root_path": ""}
    # on a thread of its own: asyncio.run refuses a thread where another test left a loop running
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, app(scope, receive, send)).result(60)
    return status, pulled


@pytest.mark.parametrize("path, headers", [("/_polytag/noop", []), ("/_polytag/seed", [(b"content-type", b"application/json")]),
                                           ("/v1/apps", [(b"content-type", b"application/json")])])
def test_a_streamed_body_is_read_no_further_than_the_cap(tmp_path: Path, path: str,
                                                         headers: list[tuple[bytes, bytes]]) -> None:
    app = create_app(Settings(db=f"sqlite:///{tmp_path / 'cap.db'}", max_body_bytes=CAP))
    status, pulled = chunks_read(app, path, chunks=300, headers=headers)
    assert status == 413
    assert pulled <= CAP // 1024 + 1  # the cap plus one chunk, not the 300 sent


def test_noop_refuses_a_declared_oversize_body_unread(tmp_path: Path) -> None:
    app = create_app(Settings(db=f"sqlite:///{tmp_path / 'cap.db'}", max_body_bytes=CAP))
    status, pulled = chunks_read(app, "/_polytag/noop", 300, headers=[(b"content-length", b"307200")])
    assert (status, pulled) == (413, 0)
    with TestClient(app, base_url="http://localhost", client=("127.0.0.1", 1)) as c:
        assert c.post("/_polytag/noop", content=b"y" * CAP).json() == {"errcode": 0, "errmsg": "ok"}


# Control-plane 500s (finding 15) ---------------------------------------------------------------
@pytest.mark.parametrize("body", [b'{"advance_s": 1e308}', b'{"set": 1' + b"0" * 400 + b"}",
                                  b'{"set": 1e308}', b'{"advance_s": -1e12}', b'{"set": "0001-01-01T00:00:00"}',
                                  b'{"advance_s": 1' + b"0" * 400 + b"}", b'{"set": -5}'])
def test_the_clock_refuses_instants_it_cannot_show_and_stays_usable(local: TestClient, body: bytes) -> None:
    got = local.post("/_polytag/clock", content=body, headers=JSON)
    assert got.status_code == 400, got.text
    assert "1970" in got.json()["error"] or "ISO" in got.json()["error"]
    clock = local.get("/_polytag/clock")
    assert clock.status_code == 200 and clock.json()["real"] is True
    assert local.post("/_polytag/clock", json={"advance_s": 86400}).json()["offset_s"] == 86400
    assert local.post("/_polytag/clock", json={"set": "9998-06-01T00:00:00Z"}).status_code == 200
    assert local.get("/_polytag/clock").json()["iso"].startswith("9998-06-01")


@pytest.mark.parametrize("path", ["/_polytag/seed", "/_polytag/faults", "/_polytag/snapshot", "/_polytag/clock",
                                  "/v1/apps"])
def test_a_deeply_nested_body_is_400_not_a_recursion_error(tmp_path: Path, path: str) -> None:
    with make(tmp_path, max_body_bytes=1024 * 1024) as c:
        got = c.post(path, content=b"[" * 100_000, headers=JSON)
        assert got.status_code == 400, got.text
        assert "nested too deeply" in got.text or path == "/v1/apps"  # FastAPI: "error parsing the body"


# helpers --------------------------------------------------------------------------------------
def test_host_and_origin_parsing() -> None:
    assert split_host("[::1]:8080") == ("::1", 8080)
    assert split_host("::1") == ("::1", None)
    assert split_host("Example.COM.:80") == ("example.com", 80)
    assert same_origin("https://a.example", b"a.example")  # behind a TLS proxy
    assert same_origin("http://localhost:8080", b"localhost:8080")
    assert not same_origin("http://localhost:8081", b"localhost:8080")
    assert not same_origin("null", b"localhost")
    assert forwarded_for({b"forwarded": b'for=192.0.2.60;proto=http, for="[2001:db8::1]:4711"'}) == [
        "192.0.2.60", "2001:db8::1"]
