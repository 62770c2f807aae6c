"""Settings from flags and the environment (flags win)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

DEFAULT_DB = "sqlite:///polytag.db"
DEFAULT_MAX_BODY_BYTES = 1024 * 1024  # 1 MiB: a request body past it is refused in the envelope


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
