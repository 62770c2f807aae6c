"""pytest plugin (entry point `pytest11`): a live polytag for the session, a fresh app per test.

Fixtures start nothing until a test asks for one. Every app a fixture makes has a unique
name (appid / SDKAppID / bot name), so tests run side by side under pytest-xdist, even on
one shared server (`POLYTAG_URL`), without a global reset. See docs/testing.md.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import subprocess
import sys
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import httpx

    from polytag.callbacks.target import CallbackTarget
    from polytag.control.sdk import Control


@dataclass
class PolytagServer:
    """A running polytag: its URL, admin key, an httpx client with the key, and `control`."""

    url: str
    admin_key: str | None
    http: httpx.Client
    control: Control
    proc: subprocess.Popen[str] | None = None


@dataclass
class PolytagApp:
    """One app made for one test: dialect, name (appid / SDKAppID / bot name), credential, seed entry."""

    dialect: str
    name: str
    secret: str
    entry: dict[str, Any] = field(default_factory=dict)
    admin: str = "administrator"  # Tencent IM: the identifier the signer signs for


def start_server(db: str, admin_key: str | None, extra: tuple[str, ...] = ()) -> tuple[subprocess.Popen[str], str]:
    """`python -m polytag serve --port 0`; returns (process, url) once it printed its ready line."""
    args = [sys.executable, "-m", "polytag", "serve", "--port", "0", "--db", db, *extra]
    if admin_key:
        args += ["--admin-key", admin_key]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("polytag ready on "):
        proc.kill()
        err = proc.stderr.read() if proc.stderr else ""
        raise RuntimeError(f"polytag did not start: {line!r} {err}")
    return proc, line.split(" on ", 1)[1].strip()


def stop_server(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    for stream in (proc.stdout, proc.stderr):
        if stream:
            stream.close()


def admin_client(url: str, admin_key: str | None) -> httpx.Client:
    import httpx

    headers = {"Authorization": f"Bearer {admin_key}"} if admin_key else {}
    return httpx.Client(base_url=url, headers=headers, timeout=30)


@pytest.fixture(scope="session")
def polytag_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PolytagServer]:
    """`polytag serve --port 0` on a fresh SQLite file for the session (one per xdist worker);
    with POLYTAG_URL (and POLYTAG_ADMIN_KEY) set, that running server is used instead."""
    from polytag.control.sdk import Control

    url, proc = os.environ.get("POLYTAG_URL", ""), None
    key = os.environ.get("POLYTAG_ADMIN_KEY") or None
    if not url:
        key = secrets.token_urlsafe(16)
        db = tmp_path_factory.mktemp("polytag") / "polytag.db"
        proc, url = start_server(f"sqlite:///{db}", key)
    http = admin_client(url, key)
    try:
        yield PolytagServer(url, key, http, Control(http), proc)
    finally:
        http.close()
        if proc is not None:
            stop_server(proc)


@pytest.fixture
def polytag_control(polytag_server: PolytagServer) -> Control:
    return polytag_server.control


AppFactory = Callable[..., PolytagApp]


def unique_entry(dialect: str, **entry: Any) -> tuple[dict[str, Any], PolytagApp]:
    """A seed entry with a fresh name and credential for `dialect` (fields in `entry` win)."""
    tag = secrets.token_hex(8)
    base: dict[str, Any]
    if dialect == "wechat":
        base = {"appid": f"wx{tag}", "secret": secrets.token_hex(16)}
        name_key, secret_key = "appid", "secret"
    elif dialect == "tencent_im":
        base = {"sdkappid": 1_400_000_000 + secrets.randbelow(2_800_000_000), "key": secrets.token_hex(32)}
        name_key, secret_key = "sdkappid", "key"
    elif dialect == "juzibot":
        base = {"name": f"bot-{tag}", "token": secrets.token_hex(16)}
        name_key, secret_key = "name", "token"
    else:
        raise ValueError(f"unknown dialect {dialect!r}")
    doc = {"dialect": dialect, **base, **entry}
    admin = doc.get("admin", "administrator")
    app = PolytagApp(dialect, str(doc[name_key]), str(doc[secret_key]), doc,
                     str(admin[0] if isinstance(admin, list) else admin))
    return doc, app


@pytest.fixture
def polytag_app(polytag_server: PolytagServer) -> Iterator[AppFactory]:
    """A factory: `polytag_app("wechat", followers=[...], tags=[...])` seeds a uniquely named app;
    every app it made is removed after the test."""
    made: list[PolytagApp] = []

    def make(dialect: str, **entry: Any) -> PolytagApp:
        doc, app = unique_entry(dialect, **entry)
        polytag_server.control.seed({"apps": [doc]})
        made.append(app)
        return app

    yield make
    from polytag.control.sdk import ControlError

    for app in made:
        try:
            polytag_server.control.reset(app.name)  # not in the startup seeds: the app is dropped
        except ControlError as exc:  # the test dropped it already
            if exc.status != 404:
                raise


@pytest.fixture
def polytag_wechat_app(polytag_app: AppFactory) -> PolytagApp:
    """A WeChat OA with three followers (`entry["followers"]`) and no custom tags."""
    return polytag_app("wechat", followers=[f"o{secrets.token_hex(13)}" for _ in range(3)])


@pytest.fixture
def polytag_im_app(polytag_app: AppFactory) -> PolytagApp:
    """A Tencent IM app with admin `administrator` and three imported accounts."""
    return polytag_app("tencent_im", admin="administrator", accounts=["u1", "u2", "u3"])


@pytest.fixture
def polytag_juzibot_app(polytag_app: AppFactory) -> PolytagApp:
    return polytag_app("juzibot", members=["m1"], customers=[{"unionId": "c1", "friends": ["m1"]}])


def wechat_client(base_url: str, appid: str, secret: str, **kw: Any) -> Any:
    """A wechatpy `WeChatClient` whose API and token fetch go to `base_url` (wechatpy 1.8)."""
    from wechatpy import WeChatClient

    class LocalWeChatClient(WeChatClient):
        API_BASE_URL = base_url + "/cgi-bin/"

        def fetch_access_token(self) -> dict[str, Any]:
            return self._fetch_access_token(  # type: ignore[no-any-return, unused-ignore]
                url=base_url + "/cgi-bin/token",
                params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
            )

    return LocalWeChatClient(appid, secret, **kw)


@pytest.fixture
def polytag_wechat_client(polytag_server: PolytagServer, polytag_wechat_app: PolytagApp) -> Iterator[Any]:
    """wechatpy pointed at the server, for `polytag_wechat_app` (needs `wechatpy` installed)."""
    pytest.importorskip("wechatpy")
    client = wechat_client(polytag_server.url, polytag_wechat_app.name, polytag_wechat_app.secret)
    yield client
    client._http.close()


def usersig(sdkappid: int, key: str, identifier: str, expire: int = 86400, now: float | None = None) -> str:
    """A TLSSigAPIv2 UserSig (what Tencent's `tls-sig-api-v2` makes), signed at `now`."""
    import time

    d: dict[str, Any] = {"TLS.ver": "2.0", "TLS.identifier": identifier, "TLS.sdkappid": int(sdkappid),
                         "TLS.expire": int(expire), "TLS.time": int(time.time() if now is None else now)}
    text = "".join(f"TLS.{k}:{d['TLS.' + k]}\n" for k in ("identifier", "sdkappid", "time", "expire"))
    d["TLS.sig"] = base64.b64encode(hmac.new(key.encode(), text.encode(), hashlib.sha256).digest()).decode()
    packed = base64.b64encode(zlib.compress(json.dumps(d, separators=(",", ":")).encode())).decode()
    return packed.translate(str.maketrans("+/=", "*-_"))


class ImSigner:
    """Signs Tencent IM REST calls for one app: `query()` for the URL, `call(path, body)` to send."""

    def __init__(self, server: PolytagServer, app: PolytagApp) -> None:
        self.server, self.app = server, app

    def query(self, identifier: str | None = None, expire: int = 86400, now: float | None = None) -> dict[str, str]:
        ident = identifier or self.app.admin
        return {"sdkappid": self.app.name, "identifier": ident, "contenttype": "json",
                "usersig": usersig(int(self.app.name), self.app.secret, ident, expire, now),
                "random": str(secrets.randbelow(2**32))}

    def call(self, path: str, body: Any = None, **query: Any) -> dict[str, Any]:
        """POST `/v4/<path>` with a fresh sig; the decoded IM envelope."""
        import httpx

        resp = httpx.post(f"{self.server.url}/v4/{path.lstrip('/')}", params=self.query(**query),
                          content=json.dumps(body if body is not None else {}).encode(), timeout=30)
        out: dict[str, Any] = resp.json()
        return out


@pytest.fixture
def polytag_im_signer(polytag_server: PolytagServer, polytag_im_app: PolytagApp) -> ImSigner:
    return ImSigner(polytag_server, polytag_im_app)


class Journal:
    """The request journal seen from one test: only the apps `apps` names (the test's own)."""

    def __init__(self, control: Control, apps: Callable[[], list[str]]) -> None:
        self.control, self.apps = control, apps

    def requests(self, path: str | None = None, **filters: Any) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for name in self.apps():
            out += self.control.requests(app=name, path=path, **filters)
        return sorted(out, key=lambda e: e["id"])

    def assert_called(self, path: str, times: int | None = None, **filters: Any) -> list[dict[str, Any]]:
        """The calls of `path` (a glob below or with the prefix); at least one, or exactly `times`."""
        got = self.requests(path, **filters)
        if times is None:
            assert got, f"no call of {path!r} in the journal"
        else:
            assert len(got) == times, f"{path!r} was called {len(got)} times, not {times}"
        return got

    def assert_not_called(self, path: str) -> None:
        got = self.requests(path)
        assert not got, f"{path!r} was called {len(got)} times"

    def last(self, path: str | None = None) -> dict[str, Any]:
        got = self.requests(path)
        assert got, f"no call of {path!r} in the journal"
        return got[-1]


@pytest.fixture
def polytag_journal(polytag_server: PolytagServer, request: pytest.FixtureRequest) -> Journal:
    """Journal assertions over the calls made for this test's apps (the `polytag_*_app` fixtures)."""

    def apps() -> list[str]:
        names = []
        for fixture in ("polytag_wechat_app", "polytag_im_app", "polytag_juzibot_app"):
            if fixture in request.fixturenames:
                names.append(request.getfixturevalue(fixture).name)
        return names

    return Journal(polytag_server.control, apps)


@pytest.fixture
def polytag_callbacks(polytag_server: PolytagServer) -> Iterator[Callable[..., CallbackTarget]]:
    """A factory: `polytag_callbacks(app, mode="safe", handler=None, path="/callback")` points the
    app's callbacks at a receiver on a free port (the developer's own ASGI or WSGI `handler`, else
    a built-in one answering `success`) and returns a CallbackTarget: `.simulate(action, ...)`,
    `.events()` (waits until deliveries settle, decodes what was sent), `.deliveries()`, `.verify()`."""
    import contextlib

    from polytag.callbacks.target import CallbackTarget
    from polytag.control.sdk import ControlError

    made: list[CallbackTarget] = []

    def make(app: PolytagApp | str, mode: str = "safe", **kw: Any) -> CallbackTarget:
        target = CallbackTarget(polytag_server.control, app if isinstance(app, str) else app.name, mode, **kw)
        made.append(target)
        return target

    yield make
    for target in made:
        target.close()
        with contextlib.suppress(ControlError):  # the test dropped the app
            polytag_server.control.set_callback_config(target.app, None)
