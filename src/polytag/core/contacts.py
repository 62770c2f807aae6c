"""Members, customers and friendships between them (external contacts), and marking tags per pair.

Tags are marked per (member, customer) pair (a mark names both), so each friendship is a
core subject with ext_id "userId<TAB>unionId"; the per-subject cap is then the per-pair cap, and
"the customer's tags" is the union over the customer's pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyroaring import BitMap

from polytag.core.groups import Groups
from polytag.core.memberships import Memberships
from polytag.core.models import App, Tag
from polytag.core.subjects import Subjects
from polytag.errors import Invalid, NotFound
from polytag.store import Store, Tx

if TYPE_CHECKING:
    from polytag.core.parts import Deps


@dataclass(frozen=True)
class Mark:
    """One line of a mark request: tags to add to and remove from one (member, customer) pair."""

    user_id: str
    union_id: str
    add: Sequence[str] = ()
    remove: Sequence[str] = ()


@dataclass(frozen=True)
class CarriedTag:
    """A tag a customer carries, with the members who put it on them."""

    tag: Tag
    group_name: str
    members: list[str]


def pair_ext(user_id: str, union_id: str) -> str:
    return f"{user_id}\t{union_id}"


class Contacts:
    def __init__(self, store: Store, subjects: Subjects, memberships: Memberships, groups: Groups) -> None:
        self.store = store
        self.subjects = subjects
        self.memberships = memberships
        self.groups = groups

    @classmethod
    def of_deps(cls, deps: Deps) -> Contacts:
        """A dialect's contacts part (`Dialect.parts`): they hold no per-app memory, so several
        dialects' faces of one corp may each have theirs, and a reset has nothing to forget."""
        return cls(deps.store, deps.subjects, deps.memberships, deps.groups)

    # writes -----------------------------------------------------------------
    def add_members(self, tx: Tx, app: App, user_ids: Sequence[str], now: int) -> None:
        for user_id in user_ids:
            tx.insert_member(app.id, user_id, now)

    def add_customer(self, tx: Tx, app: App, union_id: str, friends: Sequence[str], now: int) -> None:
        """The customer, and a friendship (a subject) with each of `friends` (members are created too)."""
        tx.insert_customer(app.id, union_id, now)
        self.add_members(tx, app, friends, now)
        ords = self.subjects.create(tx, app, [pair_ext(u, union_id) for u in friends], now)
        for user_id, ord_ in zip(friends, ords, strict=True):
            tx.insert_friend(app.id, union_id, user_id, ord_)

    def drop_friend(self, tx: Tx, app: App, user_id: str, union_id: str) -> None:
        """End a friendship: its marks go, then the pair (its subject stays, tagless, and is used
        again if the two become friends again). NotFound as `pair`."""
        subject = BitMap([self.pair(tx, app, user_id, union_id)])
        for row in tx.tags(app.id):  # (ord, ext_id, ...) of every tag of the app
            self.memberships.remove(tx, app, int(row[0]), subject)
        tx.delete_friend(app.id, union_id, user_id)

    def pair(self, tx: Tx, app: App, user_id: str, union_id: str) -> int:
        """The subject of a friendship. Order: member, customer, friendship."""
        if not tx.member_exists(app.id, user_id):
            raise NotFound("member", user_id)
        if not tx.customer_exists(app.id, union_id):
            raise NotFound("customer", union_id)
        ord_ = tx.friend_ord(app.id, union_id, user_id)
        if ord_ is None:
            raise NotFound("friendship", pair_ext(user_id, union_id))
        return ord_

    def mark(self, tx: Tx, app: App, marks: Sequence[Mark]) -> None:
        """Apply every mark, all or nothing. Per line: tags to remove first, then tags to add (so a
        tag in both ends up carried, and a swap works at the cap); the cap is the per-pair cap."""
        if not marks:
            raise Invalid("mark_list", "empty")
        for m in marks:
            if not m.add and not m.remove:
                raise Invalid("tags", "empty")
            subject = BitMap([self.pair(tx, app, m.user_id, m.union_id)])
            removed = [self.groups.tag(app, e, tx) for e in m.remove]
            added = [self.groups.tag(app, e, tx) for e in m.add]
            for tag in removed:
                self.memberships.remove(tx, app, tag.ord, subject)
            for tag in added:
                self.memberships.add(tx, app, tag.ord, subject, app.limits.tags_per_subject)

    # reads ------------------------------------------------------------------
    def customer_tags(self, app: App, union_id: str) -> list[CarriedTag]:
        """Tags the customer carries across all members, in list order (group first, then tag)."""
        rows = self.store.read()
        if not rows.customer_exists(app.id, union_id):
            raise NotFound("customer", union_id)
        idx = self.memberships.index(app, rows)
        by_tag: dict[int, list[str]] = {}
        with idx.lock:
            for user_id, ord_ in rows.friends_of(app.id, union_id):
                for tag_ord in idx.tags_of(int(ord_)):
                    by_tag.setdefault(tag_ord, []).append(str(user_id))
        out: list[CarriedTag] = []
        for listing in self.groups.listing(app, rows):
            for tag in listing.tags:
                if tag.ord in by_tag:
                    out.append(CarriedTag(tag, listing.group.name, by_tag[tag.ord]))
        return out


