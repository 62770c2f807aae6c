"""`serve --tls-cert/--tls-key`: HTTPS with a throwaway CA (trustme), driven by httpx and wechatpy;
plain HTTP on that port fails; a half or unusable pair is refused before the server starts."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import trustme
from click.testing import CliRunner

from polytag.cli import main
from tests.conftest import LiveServer
from tests.dialects.wechat.test_wechatpy import local_client

APPID, SECRET = "wx00000000000000t1", "tls-secret"
FAN = "oTlsFan000000000000000000001"
SEED = {"apps": [{"dialect": "wechat", "appid": APPID, "secret": SECRET, "followers": [FAN],
                  "tags": [{"name": "vip"}]}]}


class Pki:
    def __init__(self, tmp: Path) -> None:
        self.ca = trustme.CA()
        cert = self.ca.issue_cert("127.0.0.1", "localhost")
        self.cert, self.key, self.ca_file = tmp / "cert.pem", tmp / "key.pem", tmp / "ca.pem"
        self.cert.write_bytes(b"".join(pem.bytes() for pem in cert.cert_chain_pems))
        cert.private_key_pem.write_to_path(str(self.key))
        self.ca.cert_pem.write_to_path(str(self.ca_file))

    def context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context()
        self.ca.configure_trust(ctx)
        return ctx

    def args(self) -> list[str]:
        return ["--tls-cert", str(self.cert), "--tls-key", str(self.key)]


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return Pki(tmp_path)


def test_https_with_httpx_and_wechatpy(live_server: Callable[..., LiveServer], pki: Pki,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    server = live_server(SEED, extra=pki.args())
    assert server.url.startswith("https://127.0.0.1:")
    with httpx.Client(base_url=server.url, verify=pki.context()) as http:
        got = http.get("/cgi-bin/token", params={"grant_type": "client_credential", "appid": APPID,
                                                  "secret": SECRET}).json()
        assert got["expires_in"] == 7200 and got["access_token"]
        assert http.get("/cgi-bin/tags/get", params={"access_token": got["access_token"]}).json()["tags"]

    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):  # requests prefers them to Session.verify
        monkeypatch.setenv(name, str(pki.ca_file))
    wx = local_client(server.url, APPID, SECRET)
    try:
        assert wx.tag.create("广东") == {"id": 101, "name": "广东"}
        assert wx.tag.tag_user(101, FAN) == {"errcode": 0, "errmsg": "ok"}
        assert wx.tag.get_user_tag(FAN) == [101]
    finally:
        wx._http.close()

    with httpx.Client(base_url=server.url) as untrusting, pytest.raises(httpx.ConnectError):
        untrusting.get("/cgi-bin/token")  # the system CAs do not know ours
    plain = server.url.replace("https://", "http://")
    with httpx.Client(base_url=plain) as http, pytest.raises(httpx.TransportError):
        http.get("/cgi-bin/token")


def test_a_half_pair_is_a_usage_error(pki: Pki, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    for flag, path, missing in (("--tls-cert", pki.cert, "--tls-key"), ("--tls-key", pki.key, "--tls-cert")):
        out = CliRunner().invoke(main, ["serve", "--port", "0", "--db", db, flag, str(path)])
        assert out.exit_code == 2 and f"{flag} needs {missing}" in out.output
    assert not (tmp_path / "x.db").exists()  # refused before the database was opened


def test_a_key_of_another_certificate_is_refused(pki: Pki, tmp_path: Path) -> None:
    other = tmp_path / "other-key.pem"
    pki.ca.issue_cert("localhost").private_key_pem.write_to_path(str(other))
    db = f"sqlite:///{tmp_path / 'x.db'}"
    out = CliRunner().invoke(main, ["serve", "--port", "0", "--db", db, "--tls-cert", str(pki.cert),
                                    "--tls-key", str(other)])
    assert out.exit_code == 1 and f"cannot use {pki.cert} with {other}" in out.output
