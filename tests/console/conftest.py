"""Console fixtures: a real `polytag serve` per test, one headless Debian Chromium per session,
a fresh browser context per test, and a screenshot of every test's last state."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from tests.conftest import ROOT, LiveServer, start_server, stop_server

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
        "--no-first-run", "--disable-component-update", "--disable-sync"]
SHOTS = ROOT / "test-output" / "console"
KEY = "k-test"
WX = {"dialect": "wechat", "appid": "wxconsole0000001", "secret": "wx-secret",
      "followers": ["oA1", "oA2", "oA3"], "tags": [{"name": "vip"}, {"name": "north"}]}
BOT = {"dialect": "juzibot", "name": "acme-scrm", "token": "bot-token", "members": ["rocky", "lily"],
       "customers": [{"unionId": "u-100", "friends": ["rocky"]}],
       "groups": [{"name": "Level", "order": 10, "tags": [{"name": "Gold", "order": 5}, {"name": "Silver"}]}]}
SEED: dict[str, Any] = {"apps": [WX, BOT]}


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: the console tests drive Debian's Chromium")
    b = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
    yield b
    b.close()


def _serve(tmp_path: Path, extra: list[str] | None) -> Iterator[LiveServer]:
    server = start_server(f"sqlite:///{tmp_path / 'console.db'}", SEED, extra)
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    """A server without an admin key (the browser is on loopback: no sign-in)."""
    yield from _serve(tmp_path, None)


@pytest.fixture
def keyed_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A server with the admin key KEY: the console asks for it."""
    yield from _serve(tmp_path, ["--admin-key", KEY])


class Watched:
    """The page plus what went wrong in it (uncaught errors, console errors) and every URL it asked."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        self.urls: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on("console", lambda msg: self.errors.append(f"console: {msg.text}") if msg.type == "error" else None)
        page.on("request", lambda req: self.urls.append(req.url))


@pytest.fixture
def watched(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Watched]:
    """A page in a fresh context (empty storage); its screenshot goes to test-output/console/."""
    context = browser.new_context(viewport={"width": 1280, "height": 860}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    w = Watched(page)
    try:
        yield w
    finally:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{request.node.name}.png"), full_page=True)
        context.close()
    # 4xx answers the page handled (and showed) are logged by Chromium as console errors
    unexpected = [e for e in w.errors if "Failed to load resource" not in e]
    assert not unexpected, unexpected


@pytest.fixture
def page(watched: Watched) -> Page:
    return watched.page


def api(server: LiveServer, key: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.Client(base_url=server.url, headers=headers, timeout=10)


def wechat_token(http: httpx.Client) -> str:
    got = http.get("/cgi-bin/token", params={"grant_type": "client_credential", "appid": WX["appid"],
                                             "secret": WX["secret"]}).json()
    assert "access_token" in got, got
    return str(got["access_token"])
