"""The Python SDK for the native API: `Client(base_url, admin_key)`, typed results, page iterators.

`Client.in_process(asgi_app)` runs the same calls against an app in this process, without a
network (polytag.transport). A refusal raises the neutral error it names, with its fields
(polytag.client_errors); an unreachable server raises `NetworkError`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import httpx

from polytag.client_errors import ApiError, NetworkError, call, reaching, refusal
from polytag.transport import http_client

if TYPE_CHECKING:
    from polytag.control.sdk import Control

__all__ = ["ApiError", "AppInfo", "BulkResult", "Client", "GroupInfo", "NetworkError", "Page",
           "SubjectInfo", "TagInfo"]

Expr = dict[str, Any] | str


@dataclass(frozen=True)
class AppInfo:
    name: str
    dialect: str
    subjects: int
    tags: int
    limits: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TagInfo:
    id: str
    name: str
    group: str | None = None
    order: int = 0
    count: int = 0
    version: int = 0


@dataclass(frozen=True)
class GroupInfo:
    id: str
    name: str
    order: int
    tags: list[TagInfo]


@dataclass(frozen=True)
class SubjectInfo:
    id: str
    created_at: int = 0
    props: dict[str, Any] = field(default_factory=dict)
    tags: list[TagInfo] | None = None


@dataclass(frozen=True)
class Page:
    items: list[str]
    next: str | None = None
    total: int | None = None


@dataclass(frozen=True)
class BulkResult:
    changed: int
    created_subjects: list[str] = field(default_factory=list)
    created_tags: list[str] = field(default_factory=list)


def _tag(d: dict[str, Any]) -> TagInfo:
    return TagInfo(**d)


class Client:
    """A client of one polytag server's native API (`/v1`); `control` is its control plane."""

    def __init__(self, base_url: str = "http://127.0.0.1:8080", admin_key: str | None = None,
                 transport: httpx.BaseTransport | None = None, http: httpx.Client | None = None,
                 timeout: float = 60.0) -> None:
        if http is not None:
            if admin_key:
                http.headers["Authorization"] = f"Bearer {admin_key}"
            self.http = http
        else:
            self.http = http_client(base_url, admin_key, transport=transport, timeout=timeout)

    @classmethod
    def in_process(cls, app: Any, admin_key: str | None = None) -> Client:
        """A client of an ASGI app in this process (its lifespan runs until `close()`)."""
        return cls(http=http_client(admin_key=admin_key, app=app))

    @cached_property
    def control(self) -> Control:
        """The control plane (`/_polytag/`) of the same server, over the same connection."""
        from polytag.control.sdk import Control

        return Control(self.http)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # plumbing -----------------------------------------------------------------------
    def _call(self, method: str, path: str, **kw: Any) -> Any:
        return call(self.http, method, path, **kw)

    @staticmethod
    def _path(app: str, *rest: str) -> str:
        from urllib.parse import quote

        return "/v1/apps/" + "/".join(quote(str(p), safe="") for p in (app, *rest))

    # apps ---------------------------------------------------------------------------
    def apps(self) -> list[AppInfo]:
        return [AppInfo(**a) for a in self._call("GET", "/v1/apps")]

    def app(self, name: str) -> AppInfo:
        return AppInfo(**self._call("GET", self._path(name)))

    def create_app(self, name: str, limits: dict[str, Any] | None = None) -> AppInfo:
        return AppInfo(**self._call("POST", "/v1/apps", json={"name": name, "limits": limits}))

    # tags and groups ----------------------------------------------------------------
    def tags(self, app: str) -> list[TagInfo]:
        return [_tag(t) for t in self._call("GET", self._path(app, "tags"))]

    def tag(self, app: str, tag: str) -> TagInfo:
        return _tag(self._call("GET", self._path(app, "tags", tag)))

    def create_tag(self, app: str, name: str, group: str | None = None, order: int = 0) -> TagInfo:
        return _tag(self._call("POST", self._path(app, "tags"), json={"name": name, "group": group, "order": order}))

    def update_tag(self, app: str, tag: str, name: str | None = None, order: int | None = None) -> TagInfo:
        return _tag(self._call("PATCH", self._path(app, "tags", tag), json={"name": name, "order": order}))

    def delete_tag(self, app: str, tag: str) -> None:
        self._call("DELETE", self._path(app, "tags", tag))

    def groups(self, app: str) -> list[GroupInfo]:
        return [_group(g) for g in self._call("GET", self._path(app, "groups"))]

    def create_group(self, app: str, name: str, tags: Sequence[str | tuple[str, int]], order: int = 0) -> GroupInfo:
        items = [{"name": t, "order": 0} if isinstance(t, str) else {"name": t[0], "order": t[1]} for t in tags]
        return _group(self._call("POST", self._path(app, "groups"), json={"name": name, "order": order, "tags": items}))

    def update_group(self, app: str, group: str, name: str | None = None, order: int | None = None) -> GroupInfo:
        return _group(self._call("PATCH", self._path(app, "groups", group), json={"name": name, "order": order}))

    def delete_group(self, app: str, group: str) -> None:
        self._call("DELETE", self._path(app, "groups", group))

    def tag_members(self, app: str, tag: str, page_size: int = 1000) -> Iterator[str]:
        yield from self._pages("GET", self._path(app, "tags", tag, "members"), page_size)

    # subjects -----------------------------------------------------------------------
    def create_subjects(self, app: str, ids: Sequence[str]) -> int:
        return int(self._call("POST", self._path(app, "subjects"), json={"ids": list(ids)})["created"])

    def subject(self, app: str, subject: str) -> SubjectInfo:
        d = self._call("GET", self._path(app, "subjects", subject))
        return SubjectInfo(d["id"], d["created_at"], d["props"], [_tag(t) for t in d.get("tags") or []])

    def subjects_page(self, app: str, cursor: str | None = None, limit: int = 1000) -> Page:
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        return Page(**self._call("GET", self._path(app, "subjects"), params=params))

    def subjects(self, app: str, page_size: int = 1000) -> Iterator[str]:
        yield from self._pages("GET", self._path(app, "subjects"), page_size)

    # memberships --------------------------------------------------------------------
    def add(self, app: str, pairs: Sequence[tuple[str, str]], create_subjects: bool = False,
            create_tags: bool = False) -> BulkResult:
        return self._bulk(app, "add", pairs, create_subjects, create_tags)

    def remove(self, app: str, pairs: Sequence[tuple[str, str]]) -> BulkResult:
        return self._bulk(app, "remove", pairs, False, False)

    def _bulk(self, app: str, verb: str, pairs: Sequence[tuple[str, str]], cs: bool, ct: bool) -> BulkResult:
        body = {"pairs": [{"subject": s, "tag": t} for s, t in pairs], "create_subjects": cs, "create_tags": ct}
        return BulkResult(**self._call("POST", self._path(app, "memberships", verb), json=body))

    # audiences ----------------------------------------------------------------------
    def count(self, app: str, expr: Expr) -> int:
        return int(self._call("POST", self._path(app, "audiences", "count"), json={"expr": expr})["count"])

    def members_page(self, app: str, expr: Expr, cursor: str | None = None, limit: int = 1000) -> Page:
        body = {"expr": expr, "cursor": cursor, "limit": limit}
        return Page(**self._call("POST", self._path(app, "audiences", "members"), json=body))

    def members(self, app: str, expr: Expr, page_size: int = 1000) -> Iterator[str]:
        """Every member of the audience, page by page (keyset: stable under concurrent writes)."""
        cursor: str | None = None
        while True:
            page = self.members_page(app, expr, cursor, page_size)
            yield from page.items
            if page.next is None:
                return
            cursor = page.next

    def export(self, app: str, expr: Expr, fmt: str = "ndjson") -> Iterator[bytes]:
        """The audience with its tags as streamed NDJSON or CSV, chunk by chunk."""
        accept = "text/csv" if fmt == "csv" else "application/x-ndjson"
        with reaching(self.http), self.http.stream(
                "POST", self._path(app, "audiences", "export"), json={"expr": expr}, headers={"Accept": accept}) as r:
            if r.status_code >= 400:
                r.read()
                raise refusal(r)
            yield from r.iter_bytes()

    def _pages(self, method: str, path: str, page_size: int) -> Iterator[str]:
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": page_size, **({"cursor": cursor} if cursor else {})}
            page = self._call(method, path, params=params)
            yield from page["items"]
            if page.get("next") is None:
                return
            cursor = page["next"]


def _group(d: dict[str, Any]) -> GroupInfo:
    return GroupInfo(d["id"], d["name"], d["order"], [_tag(t) for t in d["tags"]])
