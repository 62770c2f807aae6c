"""Customers (external contacts) as a CRM lists them: profile, the members they are friends
of, and the tags each member put on them.

A customer is known by its unionId; its external user id is the seed's `externalUserId` or, when
the seed gives none, one derived from the unionId (stable: the same on every run and process).
Profiles given by the seed (`externalUserId`, `name`, `gender`, `type`) live in the app's config.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from polytag.core.groups import Groups
from polytag.core.memberships import Memberships
from polytag.core.models import App, Tag
from polytag.errors import Invalid, NotFound
from polytag.store import Store
from polytag.store.rows import Rows

if TYPE_CHECKING:
    from polytag.core.parts import Deps

PROFILE_KEYS = ("externalUserId", "name", "gender", "type")
CONFIG_KEY = "customer_profiles"
SCAN_PAGE = 1000


@dataclass(frozen=True)
class Follow:
    """One member the customer is a friend of, and the tags (with their group names) it put on them."""

    user_id: str
    since: int  # seconds
    tags: list[tuple[Tag, str]]


@dataclass(frozen=True)
class Customer:
    union_id: str
    external_id: str
    profile: Mapping[str, Any]
    follows: list[Follow]


def derived_external_id(app_name: str, union_id: str) -> str:
    """`wm` + 30 hex digits, the length of the external user ids vendors show."""
    return "wm" + hashlib.sha256(f"{app_name}\t{union_id}".encode()).hexdigest()[:30]


def profiles(app: App) -> Mapping[str, Mapping[str, Any]]:
    got = app.config.get(CONFIG_KEY) or {}
    return got if isinstance(got, Mapping) else {}


class Customers:
    def __init__(self, store: Store, memberships: Memberships, groups: Groups) -> None:
        self.store = store
        self.memberships = memberships
        self.groups = groups

    @classmethod
    def of_deps(cls, deps: Deps) -> Customers:
        """A dialect's customers part (`Dialect.parts`), from the core's explicit dependencies."""
        return cls(deps.store, deps.memberships, deps.groups)

    def external_id(self, app: App, union_id: str) -> str:
        given = profiles(app).get(union_id, {}).get("externalUserId")
        return str(given) if given else derived_external_id(app.name, union_id)

    def page(self, app: App, user_id: str | None, page: int, size: int) -> tuple[int, list[Customer]]:
        """(total, the customers of page `page` (from 1) of `size`), oldest first."""
        if page < 1:
            raise Invalid("current", "range", page)
        if not 1 <= size <= SCAN_PAGE:
            raise Invalid("pageSize", "range", size)
        rows = self.store.read()
        found = rows.customers_page(app.id, user_id, (page - 1) * size, size)
        return rows.customer_count(app.id, user_id), self._build(app, [(str(u), int(t)) for u, t in found], rows)

    def detail(self, app: App, *, union_id: str | None = None, external_id: str | None = None) -> Customer:
        """By unionId, else by external user id; NotFound("customer") when nobody has it."""
        rows = self.store.read()
        if union_id is None and external_id is not None:
            union_id = self._union_of(app, external_id, rows)
        created = rows.customer_created_at(app.id, union_id) if union_id else None
        if union_id is None or created is None:
            raise NotFound("customer", union_id or external_id or "")
        return self._build(app, [(union_id, created)], rows)[0]

    def _union_of(self, app: App, external_id: str, rows: Rows) -> str | None:
        for union_id, profile in profiles(app).items():
            if profile.get("externalUserId") == external_id:
                return str(union_id)
        offset = 0
        while batch := rows.customers_page(app.id, None, offset, SCAN_PAGE):
            for union_id, _ in batch:
                if derived_external_id(app.name, str(union_id)) == external_id:
                    return str(union_id)
            offset += SCAN_PAGE
        return None

    def _build(self, app: App, found: list[tuple[str, int]], rows: Rows) -> list[Customer]:
        idx = self.memberships.index(app, rows)
        named = {t.ord: (t, lst.group.name) for lst in self.groups.listing(app, rows) for t in lst.tags}
        order = {o: i for i, o in enumerate(named)}
        out = []
        for union_id, created in found:
            follows = []
            for user_id, ord_ in rows.friends_of(app.id, union_id):
                with idx.lock:
                    held = sorted((o for o in idx.tags_of(int(ord_)) if o in named), key=order.__getitem__)
                follows.append(Follow(str(user_id), created, [named[o] for o in held]))
            out.append(Customer(union_id, self.external_id(app, union_id),
                                profiles(app).get(union_id, {}), follows))
        return out
