"""Ids the service makes: vendor-looking, unique, and deterministic for a given seed and sequence."""

from __future__ import annotations

import base64
import hashlib
import random
import secrets
import threading

from polytag.core.limits import BOUNDS

_B64 = str.maketrans("+/", "-_")


def generated_ext_ids(namespace: str, n: int, prefix: str = "o", length: int = 28) -> list[str]:
    """`n` ids of `length` chars, the same on every run for the same namespace (seed `generate: N`).

    `n` is at most BOUNDS.seed_generate (seed.validate says so first, with the entry's path)."""
    if not 0 <= n <= BOUNDS.seed_generate:
        raise ValueError(f"generate {n} ids: at most {BOUNDS.seed_generate:,} (BOUNDS.seed_generate)")
    sha, enc = hashlib.sha256, base64.urlsafe_b64encode  # urlsafe = the +/ -> -_ translation
    return [(prefix + enc(sha(f"{namespace}:{i}".encode()).digest()).decode().rstrip("="))[:length]
            for i in range(n)]


def et_id(app_name: str, kind: str, ordinal: int, id_seed: str = "") -> str:
    """An opaque tag id: `et` + 30 url-safe chars, deterministic per app/kind/ordinal."""
    digest = hashlib.sha256(f"{id_seed}|{app_name}|{kind}|{ordinal}".encode()).digest()
    body = base64.b64encode(digest).decode().translate(_B64).rstrip("=")
    return ("et" + body)[:32]


def random_et_id() -> str:
    """An opaque tag id from `secrets`: `et` + 30 url-safe chars (180 random bits)."""
    return ("et" + secrets.token_urlsafe(24))[:32]


class IdSource:
    """Random bytes for tokens and task ids: `secrets` by default, a seeded stream with `--id-seed`.

    Seeded, the same sequence of calls makes the same ids (tests can compare them verbatim)."""

    def __init__(self, seed: str = "") -> None:
        self.seed = seed
        self._rng = random.Random(f"polytag-ids|{seed}") if seed else None
        self._lock = threading.Lock()

    def bytes(self, n: int) -> bytes:
        if self._rng is None:
            return secrets.token_bytes(n)
        with self._lock:  # one stream: the order of calls decides the ids
            return self._rng.randbytes(n)

    def urlsafe(self, nbytes: int) -> str:
        return base64.urlsafe_b64encode(self.bytes(nbytes)).rstrip(b"=").decode("ascii")

    def hex(self, nbytes: int) -> str:
        return self.bytes(nbytes).hex()


_source = IdSource()


def use_seed(seed: str = "") -> IdSource:
    """Make tokens and task ids from `seed` from now on (\"\" = `secrets`); the server calls it
    at start and on a full reset, so a run replays the same ids from the same point."""
    global _source
    _source = IdSource(seed)
    return _source


def id_source() -> IdSource:
    return _source


def random_token(nbytes: int = 96) -> str:
    return _source.urlsafe(nbytes)


def random_hex(nbytes: int = 16) -> str:
    return _source.hex(nbytes)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
