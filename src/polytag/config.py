"""Settings from flags and the environment (flags win)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

DEFAULT_DB = "sqlite:///polytag.db"
DEFAULT_MAX_BODY_BYTES = 1024 * 1024  # 1 MiB: a request body past it is refused in the envelope


def env_list(name: str) -> tuple[str, ...]:
    """A comma-separated environment variable as a tuple of its non-empty items."""
    return tuple(item.strip() for item in os.environ.get(name, "").split(",") if item.strip())


@dataclass(frozen=True)
class Settings:
    db: str = field(default_factory=lambda: os.environ.get("POLYTAG_DB", DEFAULT_DB))
    host: str = "127.0.0.1"
    port: int = 8080
    seeds: tuple[str, ...] = ()
    admin_key: str | None = field(default_factory=lambda: os.environ.get("POLYTAG_ADMIN_KEY") or None)
    id_seed: str = ""
    max_body_bytes: int = field(default_factory=lambda: int(
        os.environ.get("POLYTAG_MAX_BODY_BYTES") or DEFAULT_MAX_BODY_BYTES))
    # Host names the admin surfaces answer besides loopback names and IP addresses (polytag.guard)
    allowed_hosts: tuple[str, ...] = field(default_factory=lambda: env_list("POLYTAG_ALLOWED_HOSTS"))
    # peers taken as this machine when there is no admin key, besides loopback addresses: only an
    # in-process transport's name for its caller (starlette's TestClient says "testclient")
    trusted_peers: tuple[str, ...] = ()
