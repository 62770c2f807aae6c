"""A callback receiver for tests: a small HTTP server on a free loopback port that records what
polytag sends, answers as told (`success`, an error, late, ...), and decodes the vendor's XML
and encrypted envelope. The pytest fixture `polytag_callbacks` (polytag.testing) runs one."""

from __future__ import annotations

import secrets
import string
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from polytag.callbacks import envelope


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"success"
    delay_s: float = 0.0


def new_token() -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))


def new_aes_key() -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(43))


@dataclass
class Receiver:
    """Records every request; answers URL checks by echoing `echostr` (plain, or decrypted when
    signed with msg_signature) and pushes with `reply` (or the next of `script` first)."""

    token: str = field(default_factory=new_token)
    encoding_aes_key: str = field(default_factory=new_aes_key)
    receive_id: str = ""
    reply: Reply = field(default_factory=Reply)
    script: list[Reply] = field(default_factory=list)
    echo: bool = True  # False: answer URL checks wrongly
    received: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None, "start() first"
        return f"http://127.0.0.1:{self.server.server_address[1]}/callback"

    def start(self) -> Receiver:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True, name="callback-receiver").start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def answer(self, got: Received) -> Reply:
        if got.method == "GET" and "echostr" in got.query:
            return Reply(200, self.echo_of(got.query) if self.echo else b"wrong")
        return self.script.pop(0) if self.script else self.reply

    def echo_of(self, query: dict[str, str]) -> bytes:
        echo = query["echostr"]
        if "msg_signature" in query:  # the encrypted variant: decrypt, then echo the plain text
            return envelope.decrypt(envelope.aes_key(self.encoding_aes_key), echo, self.receive_id or None)
        return echo.encode()

    # decoding -------------------------------------------------------------------------------
    def pushes(self) -> list[Received]:
        return [r for r in self.received if r.method == "POST"]

    def events(self) -> list[dict[str, str]]:
        """Every push's message as {field: text}, decrypted (and its signature checked) when it
        came in the envelope."""
        return [self.decode(r) for r in self.pushes()]

    def decode(self, got: Received) -> dict[str, str]:
        return decode(got.query, got.body, self.token, self.encoding_aes_key, self.receive_id)

    def wait(self, count: int, timeout_s: float = 10.0) -> list[Received]:
        """Until `count` pushes came (AssertionError after `timeout_s`)."""
        deadline = time.monotonic() + timeout_s
        while len(self.pushes()) < count:
            assert time.monotonic() < deadline, f"{len(self.pushes())} pushes came, not {count}"
            time.sleep(0.01)
        return self.pushes()


def decode(query: dict[str, str], body: bytes, token: str, encoding_aes_key: str = "",
           receive_id: str = "") -> dict[str, str]:
    """A push's message as {field: text}: its signature checked, decrypted when it came in the
    envelope (msg_signature checked, and the receive id when given). AssertionError when wrong."""
    fields = {child.tag: child.text or "" for child in ET.fromstring(body)}
    if "Encrypt" not in fields:
        assert envelope.signature(token, query["timestamp"], query["nonce"]) == query.get("signature"), "bad signature"
        return fields
    want = envelope.signature(token, query["timestamp"], query["nonce"], fields["Encrypt"])
    assert want == query.get("msg_signature"), "bad msg_signature"
    inner = envelope.decrypt(envelope.aes_key(encoding_aes_key), fields["Encrypt"], receive_id or None)
    return {child.tag: child.text or "" for child in ET.fromstring(inner)}


def _handler(receiver: Receiver) -> Callable[..., BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            size = int(self.headers.get("Content-Length") or 0)
            parts = urlsplit(self.path)
            got = Received(self.command, parts.path, dict(parse_qsl(parts.query, keep_blank_values=True)),
                           {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(size), time.time())
            receiver.received.append(got)
            reply = receiver.answer(got)
            if reply.delay_s:
                time.sleep(reply.delay_s)
            try:
                self.send_response(reply.status)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):  # the sender gave up (its timeout)
                pass

        do_GET = do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    return Handler
