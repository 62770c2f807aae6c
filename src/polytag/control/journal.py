"""The request journal: every dialect call in a bounded ring buffer, filtered on read.

Every field an entry keeps is bounded in bytes (bodies and answers MAX_BODY, the query string
MAX_QUERY, paths MAX_PATH, the method MAX_METHOD), so the journal holds at most about
`size` x (2 x MAX_BODY + MAX_QUERY + 2 x MAX_PATH) bytes of client data, whatever clients send.
It keeps bytes and encodable text only (a path or method that is not is cleaned when recorded);
what is decoded from the bytes when shown is masked and cleaned as it is decoded.
"""

from __future__ import annotations

import fnmatch
import itertools
import os
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any

import orjson

from polytag.control.calls import AppHints, clean_text, masked, masked_body, masked_doc
from polytag.dialects import Call
from polytag.dialects._http import parse_query

DEFAULT_SIZE = int(os.environ.get("POLYTAG_JOURNAL_SIZE", "1000") or 1000)
MAX_BODY = 64 * 1024  # request and answer bytes kept per entry; longer ones are cut (and say so)
MAX_QUERY = 8 * 1024  # query-string bytes kept per entry (cut, and says so)
MAX_PATH = 2 * 1024  # characters of the path (and of the path below the prefix) kept per entry
MAX_METHOD = 32


@dataclass(slots=True)  # not frozen: a frozen dataclass pays a setattr call per field, per request
class Entry:
    id: int
    time: float  # the emulator's clock
    app: str
    dialect: str
    method: str
    path: str
    endpoint: str  # the path below the dialect's prefix
    query: bytes  # the query string as sent, cut at MAX_QUERY; parsed and masked when shown
    query_truncated: bool
    body: bytes
    truncated: bool
    status: int
    response: bytes  # the answer as sent, cut at MAX_BODY: the journal's memory stays bounded
    response_truncated: bool
    latency_ms: float
    rid: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "time": self.time, "app": self.app, "dialect": self.dialect,
                "method": self.method, "path": self.path, "query": self.masked_query(),
                "query_truncated": self.query_truncated,
                "request_body": masked_body(self.body, self.truncated), "request_truncated": self.truncated,
                "status": self.status, "response_body": _answer(self.response, self.response_truncated),
                "response_truncated": self.response_truncated,
                "latency_ms": round(self.latency_ms, 3), "rid": self.rid}

    def masked_query(self) -> dict[str, str]:
        query, _ = parse_query(self.query)  # bytes that are not UTF-8 come back as lone surrogates
        return {clean_text(k): clean_text(v) for k, v in masked(query).items()}

    def nbytes(self) -> int:
        """The bytes of client data this entry holds (text counted as UTF-8)."""
        return (len(self.body) + len(self.response) + len(self.query) + sum(
            len(t.encode("utf-8", "replace")) for t in (self.app, self.method, self.path, self.endpoint, self.rid)))


APP_FIELD = [f.name for f in fields(Entry)].index("app")  # in the tuples the ring buffer keeps


@dataclass(frozen=True)
class Filter:
    app: str | None = None
    dialect: str | None = None
    path: str | None = None  # exact, or a glob; matched on the full path and below the prefix
    since: float | None = None  # emulator time, inclusive
    after: int | None = None  # entry id, exclusive (a cursor)

    def accepts(self, e: Entry) -> bool:
        return ((self.app is None or e.app == self.app)
                and (self.dialect is None or e.dialect == self.dialect)
                and (self.path is None or _path_matches(self.path, e.path, e.endpoint))
                and (self.since is None or e.time >= self.since)
                and (self.after is None or e.id > self.after))


def _answer(raw: bytes, truncated: bool) -> Any:
    """The answer as JSON with credentials masked; a cut answer as the text that was kept."""
    if truncated:
        return raw.decode("utf-8", "replace")
    return masked_doc(orjson.loads(raw)) if raw else None


def _path_matches(pattern: str, path: str, below: str) -> bool:
    return pattern in (path, below) or fnmatch.fnmatchcase(path, pattern) or fnmatch.fnmatchcase(below, pattern)


class Journal:
    """A ring buffer of the last `size` calls; `observe` is a Service call observer."""

    def __init__(self, hints: AppHints, size: int = DEFAULT_SIZE) -> None:
        self.hints = hints
        self._entries: deque[tuple[Any, ...]] = deque(maxlen=max(1, size))
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        return self._entries.maxlen or 0

    def resize(self, size: int) -> None:
        with self._lock:
            self._entries = deque(self._entries, maxlen=max(1, size))

    def observe(self, call: Call, status: int, payload: Any, seconds: float) -> None:
        """Keep the call as a plain tuple in Entry's field order (an Entry is made when read:
        this runs on every vendor call, reading the journal is rare). deque.append is atomic."""
        app = self.hints.app_of(call)
        body, answer = call.body, call.answer  # the bytes sent (set before observers run)
        query: bytes = call.scope.get("query_string", b"")
        self._entries.append((
            next(self._ids), call.service.clock.now(), app.name if app else "", call.dialect.name,
            _text(call.method, MAX_METHOD), _text(str(call.scope["path"]), MAX_PATH),
            _text(call.endpoint.path, MAX_PATH), query[:MAX_QUERY], len(query) > MAX_QUERY,
            body[:MAX_BODY], len(body) > MAX_BODY, status, answer[:MAX_BODY], len(answer) > MAX_BODY,
            seconds * 1000, call.rid))

    def select(self, where: Filter, limit: int | None = None) -> list[Entry]:
        """Matching entries, oldest first; with `limit`, the newest `limit` of them."""
        with self._lock:
            kept = list(self._entries)  # one C-level copy: an append from the loop cannot interleave
        got = [e for e in (Entry(*t) for t in kept) if where.accepts(e)]
        return got[-limit:] if limit else got

    def clear(self, app: str | None = None) -> int:
        with self._lock:
            before = len(self._entries)
            if app is None:
                self._entries.clear()
            else:
                kept: Iterable[tuple[Any, ...]] = [t for t in list(self._entries) if t[APP_FIELD] != app]
                self._entries = deque(kept, maxlen=self._entries.maxlen)
            return before - len(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def nbytes(self) -> int:
        """The bytes of client data the journal holds (at most about size x the per-entry bound)."""
        return sum(e.nbytes() for e in self.select(Filter()))


def _text(text: str, limit: int) -> str:
    """`text` cut at `limit` characters, encodable (ASCII, the usual case, costs one check)."""
    if len(text) > limit:
        text = text[:limit]
    return text if text.isascii() else clean_text(text)
