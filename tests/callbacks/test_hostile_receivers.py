"""Delivery to a developer's server that misbehaves: it redirects, answers 100 MB or an endless
body, never answers, hangs up mid-answer, answers bytes that are not HTTP, answers 500 every
time, answers bytes that are not UTF-8. Each costs that one delivery its attempts, each attempt
journaled with what went wrong (bounded); nothing raises out of the app's delivery task; the
server keeps answering; the app's next events still go out, in order.

The receivers here are raw sockets on free loopback ports (`Hostile`), answering by plan; the
vendor's 5 s timeout is shortened on the hub (as tests/callbacks/test_delivery.py does), so that
no test takes more than a couple of seconds.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.testclient import TestClient

from polytag.callbacks.hub import Callbacks
from polytag.callbacks.journal import BODY_KEPT
from polytag.callbacks.receiver import new_aes_key, new_token
from tests.callbacks.conftest import APPID, configure, deliveries, flush, simulate

TIMEOUT_S = 0.6  # the vendor's is 5 s; the rule is the same
OFFERED = 100 * 1024 * 1024  # what the huge and the endless answers offer
READ_AT_MOST = 16 * 1024 * 1024  # polytag reads 64 KiB; the rest is what the kernel buffers hold
ERROR_MAX = 300  # characters of an attempt's error
SAFETY_S = 10.0  # a receiver thread never waits longer than this for polytag
CHUNK = 64 * 1024
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nsuccess"

Behaviour = Callable[["Hostile", socket.socket], bool]  # True: keep the connection for the next request


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """SQLite only: what is under test is the delivery loop, which no store takes part in."""
    return f"sqlite:///{tmp_path / 'polytag.db'}"


# --- a receiver that answers by plan, on a raw socket ----------------------------------------------
@dataclass
class Hostile:
    """Answer number i (over all connections) is `plan[i]`, then `success` once the plan is done.
    Keeps each request's target and the bytes each answer pushed before polytag hung up."""

    plan: list[Behaviour]
    redirect_to: str = ""
    redirected: Hostile | None = None
    token: str = field(default_factory=new_token)
    encoding_aes_key: str = field(default_factory=new_aes_key)
    targets: list[str] = field(default_factory=list)
    pushed: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/callback"
        threading.Thread(target=self._accept, daemon=True, name="hostile-receiver").start()

    def openids(self) -> list[str]:
        return [parse_qs(urlsplit(t).query).get("openid", [""])[0] for t in self.targets]

    def stop(self) -> None:
        self.sock.close()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:  # stopped
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(SAFETY_S)
        buf = bytearray()
        with conn:
            try:
                while (head := read_request(conn, buf)) is not None:
                    self.targets.append(head.split(b" ")[1].decode())
                    turn = len(self.targets) - 1
                    behaviour = self.plan[turn] if turn < len(self.plan) else ok
                    if not behaviour(self, conn):
                        return
            except OSError:  # polytag hung up (what a capped read or a timeout does)
                return


def read_request(conn: socket.socket, buf: bytearray) -> bytes | None:
    """One request's head (its body read and dropped); None once the peer closed."""
    while b"\r\n\r\n" not in buf:
        chunk = conn.recv(CHUNK)
        if not chunk:
            return None
        buf += chunk
    head, _, rest = bytes(buf).partition(b"\r\n\r\n")
    found = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    length = int(found.group(1)) if found else 0
    while len(rest) < length:
        chunk = conn.recv(CHUNK)
        if not chunk:
            return None
        rest += chunk
    buf[:] = rest[length:]
    return head


# --- the behaviours --------------------------------------------------------------------------------
def ok(r: Hostile, conn: socket.socket) -> bool:
    conn.sendall(OK)
    return True


def redirect(status: int) -> Behaviour:
    def answer(r: Hostile, conn: socket.socket) -> bool:
        conn.sendall(f"HTTP/1.1 {status} Moved\r\nLocation: {r.redirect_to}\r\nContent-Length: 0\r\n\r\n".encode())
        return True

    return answer


def push(r: Hostile, conn: socket.socket, head: bytes, chunk: bytes) -> bool:
    """`head`, then `chunk` again and again up to OFFERED bytes or until polytag hangs up."""
    sent = 0
    try:
        conn.sendall(head)
        while sent < OFFERED:
            conn.sendall(chunk)
            sent += len(chunk)
    except OSError:
        pass
    r.pushed.append(sent)
    return False


def huge(r: Hostile, conn: socket.socket) -> bool:
    return push(r, conn, f"HTTP/1.1 200 OK\r\nContent-Length: {OFFERED}\r\n\r\n".encode(), b"x" * CHUNK)


def endless(r: Hostile, conn: socket.socket) -> bool:
    """Chunked, with no last chunk: a body that does not end (OFFERED bytes are enough to tell)."""
    chunk = f"{CHUNK:x}\r\n".encode() + b"y" * CHUNK + b"\r\n"
    return push(r, conn, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", chunk)


def silent(r: Hostile, conn: socket.socket) -> bool:
    """Read the request, answer nothing, until polytag gives up and hangs up."""
    deadline = time.monotonic() + SAFETY_S
    while time.monotonic() < deadline and conn.recv(CHUNK):
        pass
    return False


def cut(r: Hostile, conn: socket.socket) -> bool:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nsucc")
    return False


def hang_up(r: Hostile, conn: socket.socket) -> bool:
    return False


def garbage(r: Hostile, conn: socket.socket) -> bool:
    conn.sendall(b"\x00\xff\xfe<this is not HTTP>\r\n\r\n" + bytes(range(256)))
    return False


def error_500(r: Hostile, conn: socket.socket) -> bool:
    body = b"<html>Internal Server Error</html>"
    conn.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    return True


NOT_UTF8 = b"\xff\xfe succ\xed\xa0\x80ess \xc3"


def not_utf8(r: Hostile, conn: socket.socket) -> bool:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n\r\n%s"
                 % (len(NOT_UTF8), NOT_UTF8))
    return True


Check = Callable[[dict[str, Any]], bool]  # on one attempt's journal entry (or the URL check's answer)


def redirected(status: int) -> Check:
    return lambda a: a["status"] == status and a["body"] == "" and "not followed" in a["error"]


CASES: dict[str, tuple[Behaviour, Check]] = {
    **{f"redirect-{code}": (redirect(code), redirected(code)) for code in (301, 302, 303, 307, 308)},
    "huge-body": (huge, lambda a: a["status"] == 200 and a["body"] == "x" * BODY_KEPT
                  and "the rest was not read" in a["error"]),
    "endless-body": (endless, lambda a: a["status"] == 200 and a["body"] == "y" * BODY_KEPT
                     and "the rest was not read" in a["error"]),
    "never-answers": (silent, lambda a: a["status"] is None and f"no answer within {TIMEOUT_S:g} s" in a["error"]),
    "cut-mid-answer": (cut, lambda a: a["status"] is None and "without sending complete message body" in a["error"]),
    "hangs-up": (hang_up, lambda a: a["status"] is None and "disconnected without sending a response" in a["error"]),
    "not-http": (garbage, lambda a: a["status"] is None and "RemoteProtocolError: illegal status line" in a["error"]),
    "500-always": (error_500, lambda a: a["status"] == 500 and a["body"] == "<html>Internal Server Error</html>"),
    "not-utf8": (not_utf8, lambda a: a["status"] == 200 and a["body"] == NOT_UTF8.decode("utf-8", "replace")),
}


@pytest.fixture
def hostile() -> Iterator[Callable[[list[Behaviour]], Hostile]]:
    """A factory: `hostile(plan)`; its redirects point at another of these (`.redirected`), which
    answers `success` to whatever reaches it."""
    made: list[Hostile] = []

    def make(plan: list[Behaviour]) -> Hostile:
        target = Hostile([])
        r = Hostile(plan, redirect_to=target.url, redirected=target)
        made.extend((r, target))
        return r

    yield make
    for r in made:
        r.stop()


def bounded(a: dict[str, Any]) -> bool:
    return len(a["body"]) <= BODY_KEPT and len(a["error"]) <= ERROR_MAX


def assert_healthy(client: TestClient, hub: Callbacks) -> None:
    """The server answers; every app's delivery task ended without raising."""
    assert client.get("/_polytag/health").status_code == 200
    got = client.get("/cgi-bin/token", params={"grant_type": "client_credential", "appid": APPID,
                                               "secret": "cb-secret-1"})
    assert got.status_code == 200 and "access_token" in got.json(), got.text
    deadline = time.monotonic() + 2
    for task in list(hub.deliverer._workers.values()):  # the per-app drain tasks
        while not task.done() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert task.done() and not task.cancelled() and task.exception() is None, task


@pytest.mark.parametrize("case", CASES)
def test_a_hostile_receiver_costs_its_delivery_and_nothing_else(
        case: str, wechat: TestClient, hub: Callbacks, hostile: Callable[[list[Behaviour]], Hostile]) -> None:
    behaviour, check = CASES[case]
    attempts = hub.faces["wechat"].attempts
    hub.deliverer.timeout_s = TIMEOUT_S
    r = hostile([behaviour] * attempts)  # the first event gets every attempt; the others get `success`
    configure(wechat, r)  # type: ignore[arg-type]  # duck-typed: url, token, encoding_aes_key
    names = ["oHostileFirst", "oHostileSecond", "oHostileThird"]
    for name in names:
        simulate(wechat, "follow", openid=name)
    flush(wechat)
    first, *later = deliveries(wechat)
    assert first["state"] == "failed" and f"{attempts} attempts" in first["note"], first
    assert [a["number"] for a in first["attempts"]] == list(range(1, attempts + 1))
    assert all(check(a) and bounded(a) for a in first["attempts"]), first["attempts"]
    assert [(d["fields"]["FromUserName"], d["state"]) for d in later] == [(n, "delivered") for n in names[1:]]
    assert r.openids() == [names[0]] * attempts + names[1:]  # in order, the first one retried
    assert r.redirected is not None and r.redirected.targets == []  # a redirect is never followed
    assert all(sent < READ_AT_MOST for sent in r.pushed), r.pushed  # a huge answer is not read whole
    assert_healthy(wechat, hub)


@pytest.mark.parametrize("case", CASES)
def test_the_url_check_against_a_hostile_receiver(
        case: str, wechat: TestClient, hub: Callbacks, hostile: Callable[[list[Behaviour]], Hostile]) -> None:
    behaviour, check = CASES[case]
    hub.deliverer.timeout_s = TIMEOUT_S
    r = hostile([behaviour])
    configure(wechat, r)  # type: ignore[arg-type]  # duck-typed: url, token, encoding_aes_key
    got = wechat.post("/_polytag/callbacks/verify", json={"app": APPID})
    assert got.status_code == 200, got.text
    doc = got.json()
    assert doc["ok"] is False and check(doc["answer"]) and bounded(doc["answer"]), doc["answer"]
    (d,) = deliveries(wechat)
    assert d["state"] == "failed" and len(d["attempts"]) == 1 and check(d["attempts"][0])
    assert r.redirected is not None and r.redirected.targets == []
    assert all(sent < READ_AT_MOST for sent in r.pushed), r.pushed
    assert_healthy(wechat, hub)


@pytest.mark.parametrize(("path", "how", "status", "words"), [
    ("/_polytag/callbacks?limit=-1", "GET", 400, "`limit` must be 0 or more"),
    ("/_polytag/callbacks?after=-1", "GET", 400, "`after` must be 0 or more"),
    ("/_polytag/callbacks?app=wx_nobody", "GET", 404, "no app 'wx_nobody'"),
    ("/_polytag/callbacks?app=wx_nobody", "DELETE", 404, "no app 'wx_nobody'"),
    ("/_polytag/callbacks/flush", "POST", 404, "no app 'wx_nobody'"),
])
def test_the_journal_refuses_what_it_cannot_answer(wechat: TestClient, path: str, how: str, status: int,
                                                    words: str) -> None:
    """Before: a negative limit answered the journal less its oldest entries, and an unknown app
    an empty journal (a mistyped name looked like an app nothing was sent for)."""
    got = wechat.request(how, path, json={"app": "wx_nobody"} if how == "POST" else None)
    assert got.status_code == status and words in got.json()["error"], got.text
