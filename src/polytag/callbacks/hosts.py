"""Where callbacks may go: loopback always; any other host only when the operator named it
(`polytag serve --callback-host NAME`, POLYTAG_CALLBACK_HOSTS), so a shared server cannot be
turned into a client of the network behind it."""

from __future__ import annotations

import fnmatch
import ipaddress
from collections.abc import Sequence
from urllib.parse import urlsplit


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class HostPolicy:
    """Loopback hosts, plus the patterns the operator allowed (`*` allows every host)."""

    def __init__(self, allowed: Sequence[str] = ()) -> None:
        self.allowed = tuple(p.strip().lower() for p in allowed if p.strip())

    def allows(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        if not host:
            return False
        return is_loopback(host) or any(fnmatch.fnmatchcase(host, p) for p in self.allowed)

    def refusal(self, url: str) -> str:
        host = urlsplit(url).hostname or ""
        return (f"host {host[:100]!r} is not loopback: the operator must allow it "
                f"(polytag serve --callback-host {host[:100]} or POLYTAG_CALLBACK_HOSTS)")
