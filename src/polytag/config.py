"""Settings from flags and the environment (flags win)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

DEFAULT_DB = "sqlite:///polytag.db"
DEFAULT_MAX_BODY_BYTES = 1024 * 1024  # 1 MiB: a request body past it is refused in the envelope
INDEX_MEMORY_CAP_MB = 1024


def default_index_memory_mb() -> int:
    """What a server keeps of its apps' indexes and directories unless told (docs/scaling.md):
    1 GiB, or a quarter of the machine's memory when that is less (256 MB on a 1 GB machine)."""
    try:
        physical = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // (1024 * 1024)
    except (ValueError, OSError):  # no sysconf: not Linux or macOS
        return INDEX_MEMORY_CAP_MB
    return max(64, min(INDEX_MEMORY_CAP_MB, physical // 4))


def index_memory_mb_from_env() -> int:
    """POLYTAG_INDEX_MEMORY_MB, else the default; 0 means no budget."""
    raw = os.environ.get("POLYTAG_INDEX_MEMORY_MB")
    return default_index_memory_mb() if raw is None or raw == "" else int(raw)


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
    # hosts besides loopback that callbacks may be sent to (polytag.callbacks.hosts; `*`: any)
    callback_hosts: tuple[str, ...] = field(default_factory=lambda: env_list("POLYTAG_CALLBACK_HOSTS"))
    # peers taken as this machine when there is no admin key, besides loopback addresses: only an
    # in-process transport's name for its caller (starlette's TestClient says "testclient")
    trusted_peers: tuple[str, ...] = ()
    # the apps' indexes and subject directories kept in memory, in MB (0: no budget)
    index_memory_mb: int = field(default_factory=index_memory_mb_from_env)
