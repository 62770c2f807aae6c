"""Request lines: one per request at INFO with the rid the client saw (WeChat's errmsg, x-request-id),
errors at ERROR with it; no credential ever logged; `serve --log-level/--log-format` honoured."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from polytag.core.service import Service
from polytag.observe.logs import JsonFormatter
from tests.conftest import LiveServer
from tests.dialects.juzibot.conftest import MAIN as JZ
from tests.dialects.juzibot.conftest import TOKEN as JZ_TOKEN
from tests.dialects.tencent_im.conftest import KEY as IM_KEY
from tests.dialects.tencent_im.conftest import app_entry as im_entry
from tests.dialects.tencent_im.conftest import gen_sig
from tests.dialects.tencent_im.conftest import query as im_query

APPID, SECRET = "wx00000000000000l1", "logs-secret-4c1f0e9a"
ADMIN_KEY = "admin-key-77e0c2b6"
SEED = {"apps": [{"dialect": "wechat", "appid": APPID, "secret": SECRET, "followers": ["oLogsFan0001"],
                  "tags": [{"name": "vip"}]}, im_entry(), JZ]}


def request_lines(records: list[logging.LogRecord]) -> list[dict[str, Any]]:
    lines = [json.loads(JsonFormatter().format(r)) for r in records if r.name.startswith("polytag")]
    return [line for line in lines if line.get("event") == "request"]


def rid_of(resp: httpx.Response) -> str:
    """The rid in WeChat's errmsg suffix, checked against the x-request-id header."""
    rid = resp.json()["errmsg"].rsplit("rid: ", 1)[1]
    assert rid == resp.headers["x-request-id"]
    return str(rid)


def test_request_lines_carry_the_rid_in_process(client: TestClient, seeded: Callable[[dict[str, Any]], Any],
                                                caplog: pytest.LogCaptureFixture) -> None:
    seeded(SEED)
    with caplog.at_level(logging.INFO, logger="polytag"):
        bad = client.get("/cgi-bin/token", params={"grant_type": "client_credential", "appid": "wx_nobody",
                                                   "secret": SECRET})
        tok = client.get("/cgi-bin/token", params={"grant_type": "client_credential", "appid": APPID,
                                                   "secret": SECRET}).json()["access_token"]
        ok = client.get("/cgi-bin/tags/get", params={"access_token": tok})
        native = client.get(f"/v1/apps/{APPID}")
    lines = request_lines(caplog.records)
    assert [(x["rid"], x["dialect"], x["path"], x["method"], x["status"], x["code"]) for x in lines] == [
        (rid_of(bad), "wechat", "/cgi-bin/token", "GET", 200, 40013),
        (lines[1]["rid"], "wechat", "/cgi-bin/token", "GET", 200, 0),
        (ok.headers["x-request-id"], "wechat", "/cgi-bin/tags/get", "GET", 200, 0),
        (native.headers["x-request-id"], "native", f"/v1/apps/{APPID}", "GET", 200, 0),
    ]
    # a token call names its app once the secret matched (the app is proven: Call.admit)
    assert [x.get("app") for x in lines] == [None, APPID, APPID, APPID]
    assert all(isinstance(x["ms"], float) and x["level"] == "info" for x in lines)
    text = "\n".join(JsonFormatter().format(r) for r in caplog.records if r.name.startswith("polytag"))
    assert SECRET not in text and tok not in text


def test_an_unexpected_error_logs_at_error_with_the_rid(
        client: TestClient, service: Service, seeded: Callable[[dict[str, Any]], Any],
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    seeded(SEED)
    tok = client.get("/cgi-bin/token", params={"grant_type": "client_credential", "appid": APPID,
                                               "secret": SECRET}).json()["access_token"]

    def boom(*args: Any, **kw: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(service.tags, "all", boom)
    with caplog.at_level(logging.INFO, logger="polytag"):
        resp = client.get("/cgi-bin/tags/get", params={"access_token": tok})
    rid = rid_of(resp)
    errors = [json.loads(JsonFormatter().format(r)) for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and errors[0]["rid"] == rid and errors[0]["level"] == "error"
    assert errors[0]["path"] == "/cgi-bin/tags/get" and "RuntimeError: boom" in errors[0]["exc"]
    assert [x["code"] for x in request_lines(caplog.records) if x["rid"] == rid] == [-1]
    assert tok not in caplog.text


def calls(url: str) -> tuple[list[str], list[str]]:
    """One call of each kind with real credentials: (rids the clients saw, credential values sent)."""
    sig = gen_sig()
    with httpx.Client(base_url=url) as http:
        tok = http.get("/cgi-bin/token", params={"grant_type": "client_credential", "appid": APPID,
                                                 "secret": SECRET}).json()["access_token"]
        ok = http.get("/cgi-bin/tags/get", params={"access_token": tok})
        bad = http.post("/cgi-bin/tags/create", params={"access_token": tok}, content=b"{not json")
        im = http.post("/v4/all_member_push/im_get_tag", params=im_query(sig=sig),
                       content=b'{"To_Account": ["xiaojun012"]}')
        jz = http.get("/api/v1/tag/list", params={"token": JZ_TOKEN})
        native = http.get("/v1/apps", headers={"Authorization": f"Bearer {ADMIN_KEY}"})
    assert ok.status_code == 200 and "tags" in ok.json()
    assert im.json()["ErrorCode"] == 0 and jz.json()["errcode"] == 0 and native.status_code == 200
    rids = [rid_of(bad)] + [r.headers["x-request-id"] for r in (ok, im, jz, native)]
    return rids, [SECRET, tok, sig, IM_KEY, JZ_TOKEN, ADMIN_KEY]


def output_of(server: LiveServer) -> tuple[str, str]:
    """Stop the server; what it wrote on stdout after the ready line, and on stderr."""
    server.proc.terminate()
    out, err = server.proc.communicate(timeout=15)
    return out, err


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_a_live_server_at_info_logs_every_request_and_no_secret(live_server: Callable[..., LiveServer],
                                                                 fmt: str) -> None:
    server = live_server(SEED, extra=["--log-level", "info", "--log-format", fmt, "--admin-key", ADMIN_KEY])
    rids, secrets = calls(server.url)
    out, err = output_of(server)
    assert out == ""  # stdout: the ready line only
    for secret in secrets:
        assert secret not in err
    if fmt == "text":
        for rid in rids:
            assert any(f"rid={rid}" in line and "event=request" in line for line in err.splitlines())
        return
    lines = [json.loads(line) for line in err.splitlines()]  # every line is one JSON object
    requests = {x["rid"]: x for x in lines if x.get("event") == "request"}
    assert len(requests) == 6  # one line per call of calls()
    assert [requests[r]["dialect"] for r in rids] == ["wechat", "wechat", "tencent_im", "juzibot", "native"]
    assert (requests[rids[0]]["code"], requests[rids[0]]["path"]) == (47001, "/cgi-bin/tags/create")
    assert requests[rids[1]]["app"] == APPID and requests[rids[2]]["app"] == "1400000001"


def test_a_live_server_at_warning_logs_no_request_line(live_server: Callable[..., LiveServer]) -> None:
    server = live_server(SEED, extra=["--admin-key", ADMIN_KEY])  # the default level: warning
    rids, secrets = calls(server.url)
    out, err = output_of(server)
    assert out == ""
    assert "request" not in err and not any(rid in err for rid in rids)
