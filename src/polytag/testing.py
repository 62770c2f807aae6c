"""pytest plugin (entry point `pytest11`): a live polytag for the session, a fresh app per test.

Fixtures start nothing until a test asks for one. Every app a fixture makes has a unique
name (each dialect's `fixture_entry`), so tests run side by side under pytest-xdist, even on
one shared server (`POLYTAG_URL`), without a global reset. See docs/testing.md.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
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
    """One app made for one test: dialect, name, credential, seed entry (`Dialect.seed_keys`)."""

    dialect: str
    name: str
    secret: str
    entry: dict[str, Any] = field(default_factory=dict)
    admin: str = "administrator"  # the entry's `admin` (an identity a signing client signs for)


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


def _dialects() -> dict[str, Any]:
    from polytag import dialects

    return dialects.discover()


def unique_entry(dialect: str, **entry: Any) -> tuple[dict[str, Any], PolytagApp]:
    """A seed entry with a fresh name and credential for `dialect` (fields in `entry` win): the
    dialect record's `fixture_entry`, given a unique tag."""
    record = _dialects().get(dialect)
    if record is None or record.fixture_entry is None:
        raise ValueError(f"unknown dialect {dialect!r}")
    base = record.fixture_entry(secrets.token_hex(8))
    name_key, secret_key = record.seed_keys
    doc = {"dialect": dialect, **base, **entry}
    admin = doc.get("admin", "administrator")
    app = PolytagApp(dialect, str(doc[name_key]), str(doc[secret_key]), doc,
                     str(admin[0] if isinstance(admin, list) else admin))
    return doc, app


@pytest.fixture
def polytag_app(polytag_server: PolytagServer) -> Iterator[AppFactory]:
    """A factory: `polytag_app(dialect, **entry)` seeds a uniquely named app;
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

    return Journal(polytag_server.control, lambda: fixture_apps(request))


def fixture_apps(request: pytest.FixtureRequest) -> list[str]:
    """Names of this test's apps: those of each dialect's `polytag_<dialect>_app` fixture it uses."""
    names = []
    for fixture in request.fixturenames:
        if fixture.startswith("polytag_") and fixture.endswith("_app") and fixture != "polytag_app":
            app = request.getfixturevalue(fixture)
            if isinstance(app, PolytagApp):
                names.append(app.name)
    return names


def dialect_modules() -> list[Any]:
    """Each dialect's testing module (`Dialect.testing`): its fixtures and client helpers."""
    import importlib

    return [importlib.import_module(d.testing) for d in _dialects().values() if d.testing]


def pytest_configure(config: pytest.Config) -> None:
    """Register every dialect's fixtures (`polytag_<dialect>_app`, its clients) beside these."""
    for module in dialect_modules():
        if not config.pluginmanager.is_registered(module):
            config.pluginmanager.register(module, module.__name__)


def __getattr__(name: str) -> Any:
    """A dialect's client helper by its name (`from polytag.testing import usersig` keeps working)."""
    if not name.startswith("__"):
        for module in dialect_modules():
            if name in getattr(module, "__all__", ()):
                return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class SendLog:
    """Messages the server sent to an audience (mass messages, push tasks), by app, with
    who each reached at send time: `for_app(name)`, `last()`, `wait_for(predicate)`."""

    def __init__(self, control: Control, apps: Callable[[], list[str]]) -> None:
        self.control, self.apps = control, apps

    def for_app(self, app: str | PolytagApp | None = None) -> list[dict[str, Any]]:
        """Sends of `app` (a name or a fixture's app; None: this test's `polytag_*_app` apps), oldest first."""
        names = [app if isinstance(app, str) else app.name] if app is not None else self.apps()
        out: list[dict[str, Any]] = []
        for name in names:
            out += self.control.sends(app=name)
        return sorted(out, key=lambda s: s["created_at"])

    def last(self, app: str | PolytagApp | None = None) -> dict[str, Any]:
        got = self.for_app(app)
        assert got, "nothing was sent"
        return got[-1]

    def wait_for(self, predicate: Callable[[dict[str, Any]], bool] | None = None, *,
                 app: str | PolytagApp | None = None, timeout: float = 5.0) -> dict[str, Any]:
        """The first send matching `predicate` (any send when None), polling until `timeout`
        seconds have passed (code under test may send from a thread of its own)."""
        import time

        deadline = time.monotonic() + timeout
        while True:
            got = [s for s in self.for_app(app) if predicate is None or predicate(s)]
            if got:
                return got[0]
            if time.monotonic() >= deadline:
                raise AssertionError(f"no matching send within {timeout} s")
            time.sleep(0.05)


@pytest.fixture
def polytag_sends(polytag_server: PolytagServer, request: pytest.FixtureRequest) -> SendLog:
    """The send log of this test's apps (the `polytag_*_app` fixtures), or of any app by name."""

    return SendLog(polytag_server.control, lambda: fixture_apps(request))



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
