"""The one guard in front of every admin surface (native API, control plane, `/metrics`, console):
which Host names, which peers, which browser writes and which bodies reach them at all.

Vendor prefixes and `/_polytag/noop` never come here (PrefixDispatch routes them first);
`/_polytag/health` gets only the body cap. The admin key itself is checked by each front end
(`polytag.admin.authorized`): these rules hold with or without one, except the peer rule, which
is what stands in for the key when there is none.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from polytag.admin import is_loopback
from polytag.config import Settings
from polytag.dialects._http import declared_length, read_body
from polytag.errors import LimitExceeded

READS = frozenset({"GET", "HEAD", "OPTIONS"})
OPEN = frozenset({"/_polytag/health"})  # readiness probes: no Host or peer rule (docs/testing.md)
FORWARDED = (b"x-forwarded-for", b"x-real-ip", b"forwarded")
DEFAULT_PORTS = {"http": 80, "https": 443}
NO_PEER = ("without an admin key, only loopback clients may use the native API, the control plane, the "
           "console and /metrics; start polytag with --admin-key (or POLYTAG_ADMIN_KEY) to use them from "
           "another machine")


class Refused(Exception):
    """A request the guard turns away: status, a slug for problem documents, the message, extras."""

    def __init__(self, status: int, slug: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.slug, self.message, self.extra = status, slug, message, extra


def split_host(value: str) -> tuple[str, int | None]:
    """`name[:port]` or `[v6][:port]` -> (lower-case name without brackets or final dot, port)."""
    value = value.strip().lower()
    if value.startswith("["):
        name, _, rest = value[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        name, sep, port = value.rpartition(":")
        if not sep or not port.isdigit() or ":" in name:  # no port, or a bare IPv6 address
            name, port = value, ""
    return name.rstrip("."), int(port) if port.isdigit() and len(port) <= 5 else None


def is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def forwarded_for(headers: dict[bytes, bytes]) -> list[str]:
    """The client addresses an `X-Forwarded-For`, `X-Real-IP` or `Forwarded` header names."""
    found = []
    for name in FORWARDED:
        for part in headers.get(name, b"").decode("latin-1").split(","):
            if name == b"forwarded":
                pairs = (p.strip().partition("=") for p in part.split(";"))
                part = next((v for k, _, v in pairs if k.strip().lower() == "for"), "")
            addr = part.strip().strip('"')
            if addr.startswith("[") or addr.count(":") == 1:  # [v6]:port, v4:port
                addr = split_host(addr)[0]
            if addr:
                found.append(addr)
    return found


@dataclass(frozen=True)
class Policy:
    """What the guard allows, from the Settings: extra Host names (`*` = any, `*.example` = its
    subdomains) and peers taken as this machine (an in-process transport's name for its caller)."""

    admin_key: str | None
    allowed_hosts: frozenset[str]
    trusted_peers: frozenset[str]
    max_body_bytes: int

    @classmethod
    def of(cls, settings: Settings) -> Policy:
        hosts = {split_host(h)[0] for h in settings.allowed_hosts if h.strip()}
        if settings.host and not ipaddress_unspecified(settings.host):
            hosts.add(split_host(settings.host)[0])
        return cls(settings.admin_key, frozenset(hosts), frozenset(settings.trusted_peers), settings.max_body_bytes)

    def host_allowed(self, name: str) -> bool:
        """Loopback names and IP literals (a rebinding page reaches us only by a DNS name), plus
        the operator's names."""
        if name == "localhost" or name.endswith(".localhost") or is_ip(name) or name in self.allowed_hosts:
            return True
        return "*" in self.allowed_hosts or any(
            h.startswith("*.") and name.endswith(h[1:]) for h in self.allowed_hosts)

    def peer_local(self, scope: Scope, headers: dict[bytes, bytes]) -> bool:
        client = scope.get("client")
        peer = client[0] if client else ""
        if client and not is_loopback(peer) and peer not in self.trusted_peers:
            return False
        return all(is_loopback(a) for a in forwarded_for(headers))  # a local proxy forwarding a stranger

    def check(self, scope: Scope, headers: dict[bytes, bytes]) -> None:
        """Raise Refused unless the request may reach an admin surface (the body is not read here)."""
        path: str = scope["path"]
        if path not in OPEN:
            raw = headers.get(b"host")
            if raw is None:
                raise Refused(400, "host-required", "a Host header is required")
            name = split_host(raw.decode("latin-1"))[0]
            if not self.host_allowed(name):
                raise Refused(403, "host-not-allowed", f"Host {name[:100]!r} is not allowed: polytag answers its admin "
                              "surfaces on loopback names and IP addresses only, plus the names given with "
                              "--allowed-host (or POLYTAG_ALLOWED_HOSTS)")
            if not self.admin_key and not self.peer_local(scope, headers):
                raise Refused(403, "loopback-only", NO_PEER)
        if scope["method"] in READS:
            return
        origin = headers.get(b"origin")
        if origin is not None and not same_origin(origin.decode("latin-1"), headers.get(b"host", b"")):
            raise Refused(403, "cross-origin", f"cross-origin write refused: Origin {origin.decode('latin-1')[:100]!r} "
                          "is not this server")
        site = headers.get(b"sec-fetch-site", b"").lower()
        if site in (b"cross-site", b"same-site"):
            raise Refused(403, "cross-origin", f"cross-origin write refused (Sec-Fetch-Site: {site.decode()})")
        if not path.startswith("/console"):
            check_json(headers)


def ipaddress_unspecified(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        return False


def same_origin(origin: str, host: bytes) -> bool:
    """Origin `scheme://name[:port]` names the server the Host header names (a portless Host
    takes the Origin scheme's default port: behind a TLS proxy the scheme is the proxy's)."""
    try:
        parts = urlsplit(origin.strip())
        origin_port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return False
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return False  # `null`, a file: page, an extension
    name, port = split_host(host.decode("latin-1"))
    return parts.hostname.rstrip(".") == name and origin_port == (port or DEFAULT_PORTS[parts.scheme])


def check_json(headers: dict[bytes, bytes]) -> None:
    """A write's body, when it has one, is JSON by its Content-Type (a form or text/plain body is
    what a cross-site page can send without asking)."""
    kind = headers.get(b"content-type")
    if kind is None:
        length = headers.get(b"content-length", b"0").strip()
        if length in (b"0", b"") and b"transfer-encoding" not in headers:
            return
        raise Refused(415, "unsupported-media-type", "a request body needs Content-Type: application/json")
    media = kind.split(b";", 1)[0].strip().lower()
    if media != b"application/json" and not media.endswith(b"+json"):
        raise Refused(415, "unsupported-media-type",
                      f"Content-Type {kind.decode('latin-1')!r} refused: send the body as application/json")


class AdminGuard:
    """ASGI middleware: Policy.check, then the body read up to the cap (413 past it, reading at
    most the cap plus one chunk) and replayed to the app."""

    def __init__(self, app: ASGIApp, policy: Policy) -> None:
        self.app, self.policy = app, policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", ()))
        gone = False

        async def watched() -> Message:
            nonlocal gone
            message = await receive()
            gone = gone or message["type"] == "http.disconnect"
            return message

        try:
            self.policy.check(scope, headers)
            cap = self.policy.max_body_bytes
            body = await read_body(watched, cap, declared_length(scope))
        except Refused as exc:
            await refuse(scope, send, exc)
            return
        except LimitExceeded as exc:
            await refuse(scope, send, Refused(413, "body-too-large", too_large(exc), limit=exc.limit, value=exc.value,
                                              allowed=exc.allowed))
            return
        if gone:  # the client left (or a read deadline closed it) mid-body: nothing to answer
            return
        await self.app(scope, replay(body, receive), send)


def too_large(exc: LimitExceeded) -> str:
    return f"request body over {exc.allowed} bytes (the server's --max-body-bytes)"


def replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: wait for the disconnect

    return again


async def refuse(scope: Scope, send: Send, exc: Refused) -> None:
    """The native API's problem+json under /v1 (and /docs, /openapi.json); `{"error"}` elsewhere,
    as the control plane answers."""
    path: str = scope["path"]
    if path.startswith(("/_polytag/", "/console", "/metrics")):
        doc: dict[str, Any] = {"error": exc.message, **exc.extra}
        kind = "application/json"
    else:
        doc = {"type": f"/problems/{exc.slug}", "title": exc.slug.replace("-", " ").capitalize(),
               "status": exc.status, "detail": exc.message, **exc.extra}
        kind = "application/problem+json"
    content = json.dumps(doc).encode()
    headers = [(b"content-type", kind.encode()), (b"content-length", str(len(content)).encode())]
    await send({"type": "http.response.start", "status": exc.status, "headers": headers})
    await send({"type": "http.response.body", "body": content})
