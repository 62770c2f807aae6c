"""`polytag serve` does not keep slow or idle connections (issue 15, findings 9 and 18): header
and body deadlines (polytag.deadlines), keep-alive, the header byte cap, the concurrency cap, and
the admin key from a file instead of a flag `ps` shows.

Each test asserts the server closed the connection; the only time bound is a generous one on
waiting for that close (the deadlines are 1 s, the wait up to 20 s)."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from polytag.cli.server import key_from_file
from tests.conftest import LiveServer, start_server, stop_server

DEADLINES = ["--timeout-headers", "1", "--timeout-body", "1", "--timeout-keep-alive", "1"]
WAIT = 20.0  # generous: the close is due after about 1 s


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    s = start_server(f"sqlite:///{tmp_path / 'slow.db'}", None, DEADLINES)
    try:
        yield s
    finally:
        stop_server(s)


def connect(server: LiveServer) -> socket.socket:
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=WAIT)
    return sock


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes; fails if it keeps the connection past WAIT."""
    got = b""
    try:
        while chunk := sock.recv(65536):
            got += chunk
    except TimeoutError:
        pytest.fail(f"the server kept the connection open for {WAIT} s")
    except ConnectionResetError:
        pass  # closed with unread bytes: closed all the same
    finally:
        sock.close()
    return got


def test_an_idle_connection_is_closed(server: LiveServer) -> None:
    assert read_until_closed(connect(server)) == b""


def test_partial_headers_are_closed(server: LiveServer) -> None:
    sock = connect(server)
    sock.sendall(b"GET /_polytag/health HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
    assert read_until_closed(sock) == b""


def test_a_partial_body_is_closed(server: LiveServer) -> None:
    sock = connect(server)
    sock.sendall(b"POST /_polytag/noop HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n{\"a\":")
    assert read_until_closed(sock) == b""


def test_keep_alive_ends_after_a_response(server: LiveServer) -> None:
    sock = connect(server)
    sock.sendall(b"GET /_polytag/health HTTP/1.1\r\nHost: localhost\r\n\r\n")
    got = read_until_closed(sock)
    assert got.startswith(b"HTTP/1.1 200") and b'"status":"ok"' in got


def test_endless_headers_get_431(server: LiveServer) -> None:
    sock = connect(server)
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # closed while we still send
        sock.sendall(b"GET /_polytag/health HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * 70_000)
    assert read_until_closed(sock).startswith(b"HTTP/1.1 431")


def test_the_concurrency_cap_answers_503(tmp_path: Path) -> None:
    s = start_server(f"sqlite:///{tmp_path / 'cap.db'}", None, ["--limit-concurrency", "3"])  # default deadlines
    try:
        held = [connect(s), connect(s)]
        with httpx.Client(base_url=s.url, timeout=WAIT) as http:
            assert http.get("/_polytag/health").status_code == 503  # 3 connections open: the cap
            for sock in held:
                sock.close()
            # the server sees the two closes soon; until then it still counts them
            statuses = [http.get("/_polytag/health").status_code for _ in range(50)]
            assert statuses[-1] == 200, statuses
    finally:
        stop_server(s)


def test_the_admin_key_from_a_file(tmp_path: Path) -> None:
    key_file = tmp_path / "admin.key"
    key_file.write_text("k-from-file\n", "utf-8")
    s = start_server(f"sqlite:///{tmp_path / 'key.db'}", None, ["--admin-key-file", str(key_file)])
    try:
        assert "k-from-file" not in " ".join(map(str, s.proc.args))  # nothing for `ps` to show
        with httpx.Client(base_url=s.url, timeout=WAIT) as http:
            assert http.get("/v1/apps").status_code == 401
            assert http.get("/v1/apps", headers={"Authorization": "Bearer k-from-file"}).status_code == 200
    finally:
        stop_server(s)


def test_key_from_file_refuses_two_keys_and_an_empty_file(tmp_path: Path) -> None:
    import click

    empty = tmp_path / "empty"
    empty.write_text("\n", "utf-8")
    with pytest.raises(click.ClickException, match="no admin key"):
        key_from_file(str(empty), None)
    with pytest.raises(click.UsageError, match="once"):
        key_from_file(str(empty), "flag-key")
    assert key_from_file(None, "flag-key") == "flag-key"
