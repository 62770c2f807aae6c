"""Ids the service makes: vendor-looking, unique, and deterministic for a given seed and sequence."""

from __future__ import annotations

import base64
import hashlib
import secrets

_B64 = str.maketrans("+/", "-_")


def generated_ext_ids(namespace: str, n: int, prefix: str = "o", length: int = 28) -> list[str]:
    """`n` ids of `length` chars, the same on every run for the same namespace (seed `generate: N`)."""
    out = []
    for i in range(n):
        digest = hashlib.sha256(f"{namespace}:{i}".encode()).digest()
        body = base64.b64encode(digest).decode().translate(_B64).rstrip("=")
        out.append((prefix + body)[:length])
    return out


def et_id(app_name: str, kind: str, ordinal: int, id_seed: str = "") -> str:
    """A WeCom-style corp tag id: `et` + 30 url-safe chars, deterministic per app/kind/ordinal."""
    digest = hashlib.sha256(f"{id_seed}|{app_name}|{kind}|{ordinal}".encode()).digest()
    body = base64.b64encode(digest).decode().translate(_B64).rstrip("=")
    return ("et" + body)[:32]


def random_token(nbytes: int = 96) -> str:
    return secrets.token_urlsafe(nbytes)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
