"""Serving the console (in-process, no browser): the loopback rule without a key, the assets'
content types and headers, and nothing in the page that reaches outside the machine."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from polytag.app import create_app
from polytag.config import Settings
from polytag.console.site import STATIC


def client(tmp_path: Path, host: str, key: str | None = None) -> TestClient:
    settings = Settings(db=f"sqlite:///{tmp_path / 'site.db'}", admin_key=key, allowed_hosts=("testserver",))
    return TestClient(create_app(settings), client=(host, 40000), follow_redirects=False)


@pytest.fixture
def remote(tmp_path: Path) -> Iterator[TestClient]:
    with client(tmp_path, "203.0.113.7") as c:
        yield c


@pytest.mark.parametrize("path", ["/console", "/console/", "/console/session", "/console/main.js"])
def test_no_key_refuses_a_non_loopback_client(remote: TestClient, path: str) -> None:
    got = remote.get(path)
    assert got.status_code == 403
    assert "loopback" in got.text


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost"])
def test_no_key_serves_loopback_without_sign_in(tmp_path: Path, host: str) -> None:
    with client(tmp_path, host) as c:
        assert c.get("/console/").status_code == 200
        assert c.get("/console/session").json() == {"key_required": False}


def test_with_a_key_any_client_gets_the_page_and_is_told_to_sign_in(tmp_path: Path) -> None:
    with client(tmp_path, "203.0.113.7", key="k-site") as c:
        assert c.get("/console/").status_code == 200
        assert c.get("/console/session").json() == {"key_required": True}
        assert c.get("/v1/apps").status_code == 401  # the page is public; the data is not


def test_assets_have_their_types_and_a_self_only_policy(tmp_path: Path) -> None:
    with client(tmp_path, "127.0.0.1") as c:
        assert c.get("/console").headers["location"] == "/console/"
        page = c.get("/console/")
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert c.get("/console/main.js").headers["content-type"].startswith("text/javascript")
        assert c.get("/console/console.css").headers["content-type"].startswith("text/css")
        assert c.get("/console/favicon.svg").headers["content-type"] == "image/svg+xml"
        assert c.get("/console/nothing.js").status_code == 404
        assert c.get("/console/%2e%2e%2fsite.py").status_code == 404


def test_static_files_are_flat_and_name_no_outside_host() -> None:
    files = list(STATIC.iterdir())
    assert files and all(f.is_file() for f in files)  # package-data is console/static/*
    outside = re.compile(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", re.I)
    for f in files:
        text = f.read_text("utf-8")
        found = [m.group(0) for m in outside.finditer(text) if m.group(0) != "http://www.w3.org"]  # SVG namespace
        assert not found, (f.name, found)
        assert "@import" not in text and "@font-face" not in text
