"""The admin key: who may use the native API and the control plane, and where no key is needed."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Mapping

LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (serving without a key is allowed there)."""
    host = host.strip("[]")
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def authorized(headers: Mapping[str, str], admin_key: str | None) -> bool:
    """`Authorization: Bearer <key>` matches the configured key (constant time); no key, no check."""
    if not admin_key:
        return True
    got = headers.get("authorization", "")
    scheme, _, token = got.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), admin_key.encode())
