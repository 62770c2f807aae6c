"""The HTTP plumbing of the mount: reading a capped body, sending bytes, parsing (and caching)
a query. Shared with the request guard, the journal and the server's own routes."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import MappingProxyType
from urllib.parse import parse_qsl

from starlette.types import Receive, Scope, Send

from polytag.dialects import _wire
from polytag.errors import LimitExceeded


def declared_length(scope: Scope) -> int | None:
    """The request's Content-Length header, when present and a number."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def read_body(receive: Receive, limit: int | None = None, declared: int | None = None) -> bytes:
    """The whole request body; past `limit` bytes it stops reading (holding at most the cap plus
    one chunk) and raises LimitExceeded("body_bytes", size so far, limit)."""
    if limit is not None and declared is not None and declared > limit:
        raise LimitExceeded("body_bytes", declared, limit)
    chunks = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if limit is not None and size > limit:
            raise LimitExceeded("body_bytes", size, limit)
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def send_bytes(send: Send, status: int, content: bytes, content_type: str, rid: str = "") -> None:
    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(content)).encode())]
    if rid:
        headers.append((b"x-request-id", rid.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})


def parse_query(raw: bytes) -> tuple[Mapping[str, str], bool]:
    """(the query as a read-only mapping, the last of repeated keys winning; whether a store
    can hold every value)."""
    # raw bytes and %-escapes both decode as UTF-8; what is not UTF-8 becomes lone surrogates,
    # which `storable_text` refuses: the dialect's data-format code, never a garbled value
    text = raw.decode("utf-8", "surrogateescape")
    query = dict(parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="surrogateescape"))
    return MappingProxyType(query), all(map(_wire.storable_text, query.values()))


# A client sends the same query again and again (its access_token), so recent ones are
# remembered; only short queries of few parameters, so the cache's memory is bounded in bytes
# (QUERY_CACHE_SIZE x about 4 KiB at most), never by what clients choose to send.
QUERY_CACHE_BYTES, QUERY_CACHE_PARAMS, QUERY_CACHE_SIZE = 1024, 16, 1024
_cached_query = functools.lru_cache(maxsize=QUERY_CACHE_SIZE)(parse_query)


def _parse_query(raw: bytes) -> tuple[Mapping[str, str], bool]:
    if len(raw) > QUERY_CACHE_BYTES or raw.count(b"&") >= QUERY_CACHE_PARAMS:
        return parse_query(raw)
    return _cached_query(raw)
