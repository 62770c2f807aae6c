"""A plain-Python model of one corp's tag library and its marks, in neutral terms (no vendor codes).

The rules it holds (core/groups.py, core/tags.py, core/contacts.py): tags live in groups; a group is
never empty (creating one needs tags, deleting its last tag deletes it, deleting it deletes its tags
and their marks); group names are unique per corp, tag names per group; names are non-blank and at
most 30 characters; `order` is in [0, 2^32); lists show larger order first, then older first; ids
come from one counter per kind (group, tag), never reused; a new tag counts against the per-corp
cap; another corp's id is not found, exactly as one nobody has. Marks are per (member, customer) pair: removals first, then additions, under the
per-pair cap. Every write is all or nothing and refuses with the first rule broken, in the order the
code checks them. Each face turns the outcome into its wire (tests/models/juzibot.py, wecom.py).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Concatenate, ParamSpec

P = ParamSpec("P")

NAME_MAX = 30
ORDER_MAX = 2**32  # exclusive

# the errors, each named after the rule broken
EMPTY = "empty"  # nothing to do: no tags to create, no ids, no field to change, nothing to mark
BAD_ORDER = "bad_order"
BLANK_GROUP_NAME, LONG_GROUP_NAME, TAKEN_GROUP_NAME = "blank_group_name", "long_group_name", "taken_group_name"
BLANK_TAG_NAME, LONG_TAG_NAME, TAKEN_TAG_NAME = "blank_tag_name", "long_tag_name", "taken_tag_name"
NOT_FOUND_GROUP, NOT_FOUND_TAG = "not_found_group", "not_found_tag"
NOT_FOUND_MEMBER, NOT_FOUND_CUSTOMER = "not_found_member", "not_found_customer"
NOT_FOUND_FRIENDSHIP = "not_found_friendship"
OVER_TAGS_PER_CORP, OVER_TAGS_PER_PAIR = "over_tags_per_corp", "over_tags_per_pair"
ERRORS = (EMPTY, BAD_ORDER, BLANK_GROUP_NAME, LONG_GROUP_NAME, TAKEN_GROUP_NAME, BLANK_TAG_NAME,
          LONG_TAG_NAME, TAKEN_TAG_NAME, NOT_FOUND_GROUP, NOT_FOUND_TAG, NOT_FOUND_MEMBER,
          NOT_FOUND_CUSTOMER, NOT_FOUND_FRIENDSHIP, OVER_TAGS_PER_CORP, OVER_TAGS_PER_PAIR)


class Refused(Exception):
    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


@dataclass
class Item:
    """A tag, or a group: its name, its order and its ordinal (its id, and its age in list order)."""

    name: str
    order: int
    n: int


@dataclass
class Group(Item):
    tags: dict[str, Item] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """The error a write refused with (None: done); a create names the group and the tags it answers."""

    error: str | None = None
    group: str = ""
    tags: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None


def list_order(items: Mapping[str, Item]) -> list[str]:
    """Larger order first, then older first."""
    return sorted(items, key=lambda e: (-items[e].order, items[e].n))


def check_name(name: str, blank: str, long: str) -> None:
    if not name.strip():
        raise Refused(blank)
    if len(name) > NAME_MAX:
        raise Refused(long)


def check_order(order: int) -> None:
    if not 0 <= order < ORDER_MAX:
        raise Refused(BAD_ORDER)


def check_change(name: str | None, order: int | None) -> None:
    """An edit changes something; its order first, then (the caller's) name."""
    if name is None and order is None:
        raise Refused(EMPTY)
    if order is not None:
        check_order(order)


def change(item: Item, name: str | None, order: int | None) -> None:
    item.name = item.name if name is None else name
    item.order = item.order if order is None else order


def atomic(op: Callable[Concatenate[Corp, P], Outcome]) -> Callable[Concatenate[Corp, P], Outcome]:
    """A write done whole, or refused with nothing changed."""

    @functools.wraps(op)
    def run(corp: Corp, *args: P.args, **kwargs: P.kwargs) -> Outcome:
        saved = copy.deepcopy((corp.groups, corp.marks, corp.next))
        try:
            return op(corp, *args, **kwargs)
        except Refused as exc:
            corp.groups, corp.marks, corp.next = saved
            return Outcome(exc.error)

    return run


class Corp:
    """Groups by id with their tags, the members, who added which customer, and the marks.

    `make_id(kind, ordinal)` is the id the service hands out; `per_corp`, `per_pair` the caps."""

    def __init__(self, make_id: Callable[[str, int], str], per_corp: int | None = None,
                 per_pair: int | None = None) -> None:
        self.make_id, self.per_corp, self.per_pair = make_id, per_corp, per_pair
        self.groups: dict[str, Group] = {}
        self.members: list[str] = []
        self.friends: dict[str, list[str]] = {}  # customer -> the members who added them
        self.marks: set[tuple[str, str, str]] = set()  # (member, customer, tag)
        self.next = {"group": 0, "tag": 0}

    # the cast and the seed ----------------------------------------------------------------------
    def add_members(self, members: Sequence[str]) -> None:
        self.members += [m for m in members if m not in self.members]

    def add_customer(self, customer: str, friends: Sequence[str]) -> None:
        """The customer, added by each of `friends` (members, made when new)."""
        self.add_members(friends)
        self.friends[customer] = list(friends)

    def seed_group(self, name: str, order: int, tags: Sequence[tuple[str, int]]) -> None:
        assert self.create(None, name, order, tags).ok

    # reads --------------------------------------------------------------------------------------
    def tags(self) -> dict[str, str]:
        """Every tag's id, and its group's."""
        return {t: g for g, group in self.groups.items() for t in group.tags}

    def tag(self, ext: str) -> Item:
        return self.groups[self.tags()[ext]].tags[ext]

    def listing(self) -> list[tuple[str, list[str]]]:
        """Every group with every tag of it, in list order."""
        return [(g, list_order(self.groups[g].tags)) for g in list_order(self.groups)]

    def carried(self, member: str, customer: str) -> list[str]:
        """The tags `member` put on `customer`, in list order."""
        return [t for _, tags in self.listing() for t in tags if (member, customer, t) in self.marks]

    def carriers(self, customer: str) -> dict[str, list[str]]:
        """The tags `customer` carries, each with the members who put it on them."""
        out: dict[str, list[str]] = {}
        for member, who, tag in sorted(self.marks):
            if who == customer:
                out.setdefault(tag, []).append(member)
        return out

    # writes: each all or nothing (`atomic`) ----------------------------------------------------
    def _new(self, kind: str) -> tuple[str, int]:
        n = self.next[kind]
        self.next[kind] += 1
        return self.make_id(kind, n), n

    def _group(self, ext: str) -> Group:
        if ext not in self.groups:
            raise Refused(NOT_FOUND_GROUP)
        return self.groups[ext]

    def _tag(self, ext: str) -> Item:
        if ext not in self.tags():
            raise Refused(NOT_FOUND_TAG)
        return self.tag(ext)

    def _target(self, group_id: str | None, group_name: str, has_tags: bool) -> str | None:
        """The group a create puts tags into (None: a new one); checked before the tags."""
        if group_id:
            self._group(group_id)
            found: str | None = group_id
        else:
            check_name(group_name, BLANK_GROUP_NAME, LONG_GROUP_NAME)
            found = next((e for e, g in self.groups.items() if g.name == group_name), None)
        if not has_tags:
            raise Refused(EMPTY)
        return found

    @atomic
    def create(self, group_id: str | None, group_name: str, group_order: int,
               tags: Sequence[tuple[str, int]]) -> Outcome:
        """Tags into group `group_id`, else into the group named `group_name` (made when absent);
        a name the group has (or the request repeats) answers the tag it names."""
        target = self._target(group_id, group_name, bool(tags))
        if target is None:
            check_order(group_order)
            target, n = self._new("group")
            self.groups[target] = Group(group_name, group_order, n)
        group = self.groups[target]
        answered: dict[str, str] = {}  # name -> the tag it answers
        for name, order in tags:
            check_name(name, BLANK_TAG_NAME, LONG_TAG_NAME)
            check_order(order)
            if name not in answered:
                answered[name] = self._put_tag(group, name, order)
        return Outcome(group=target, tags=tuple(list_order({e: group.tags[e] for e in answered.values()})))

    def _put_tag(self, group: Group, name: str, order: int) -> str:
        """The group's tag named `name`, else a new one (under the per-corp cap)."""
        same = next((e for e, t in group.tags.items() if t.name == name), None)
        if same is not None:
            return same
        if self.per_corp is not None and len(self.tags()) + 1 > self.per_corp:
            raise Refused(OVER_TAGS_PER_CORP)
        ext, n = self._new("tag")
        group.tags[ext] = Item(name, order, n)
        return ext

    @atomic
    def edit_group(self, ext: str, name: str | None, order: int | None) -> Outcome:
        group = self._group(ext)
        check_change(name, order)
        if name is not None:
            check_name(name, BLANK_GROUP_NAME, LONG_GROUP_NAME)
            if any(g.name == name for e, g in self.groups.items() if e != ext):
                raise Refused(TAKEN_GROUP_NAME)
        change(group, name, order)
        return Outcome()

    @atomic
    def edit_tag(self, ext: str, name: str | None, order: int | None) -> Outcome:
        tag = self._tag(ext)
        check_change(name, order)
        if name is not None:
            check_name(name, BLANK_TAG_NAME, LONG_TAG_NAME)
            siblings = self.groups[self.tags()[ext]].tags
            if any(t.name == name for e, t in siblings.items() if e != ext):
                raise Refused(TAKEN_TAG_NAME)
        change(tag, name, order)
        return Outcome()

    def edit(self, ext: str, name: str | None, order: int | None) -> Outcome:
        """A tag's id or a group's: the tag's edit, else the group's."""
        return self.edit_tag(ext, name, order) if ext in self.tags() else self.edit_group(ext, name, order)

    def delete_groups(self, ids: Sequence[str]) -> Outcome:
        return self.delete((), ids)

    def delete_tags(self, ids: Sequence[str]) -> Outcome:
        return self.delete(ids, ())

    @atomic
    def delete(self, tag_ids: Sequence[str], group_ids: Sequence[str]) -> Outcome:
        """Groups with their tags and marks, then tags with theirs (a group left without tags goes
        too). Refused when there are no ids, then at the first unknown group id, then tag id."""
        if not tag_ids and not group_ids:
            raise Refused(EMPTY)
        for ext in group_ids:
            self._group(ext)
        for ext in tag_ids:
            self._tag(ext)
        for ext in set(group_ids):
            for tag in self.groups.pop(ext).tags:
                self.marks -= {m for m in self.marks if m[2] == tag}
        owner = self.tags()
        for tag in set(tag_ids) & set(owner):  # those of a group just deleted are gone already
            del self.groups[owner[tag]].tags[tag]
            self.marks -= {m for m in self.marks if m[2] == tag}
            if not self.groups[owner[tag]].tags:
                del self.groups[owner[tag]]
        return Outcome()

    @atomic
    def mark(self, member: str, customer: str, add: Sequence[str], remove: Sequence[str]) -> Outcome:
        if not add and not remove:
            raise Refused(EMPTY)
        if member not in self.members:
            raise Refused(NOT_FOUND_MEMBER)
        if customer not in self.friends:
            raise Refused(NOT_FOUND_CUSTOMER)
        if member not in self.friends[customer]:
            raise Refused(NOT_FOUND_FRIENDSHIP)
        for ext in [*remove, *add]:
            self._tag(ext)
        self.marks -= {(member, customer, t) for t in remove}
        for tag in add:
            if (member, customer, tag) not in self.marks:
                if self.per_pair is not None and len(self.carried(member, customer)) + 1 > self.per_pair:
                    raise Refused(OVER_TAGS_PER_PAIR)
                self.marks.add((member, customer, tag))
        return Outcome()


def from_seed(entry: Mapping[str, Any], make_id: Callable[[str, int], str], customer_key: str,
              friends_key: str) -> Corp:
    """The model of a seed entry: `members`, `customers` (each keyed by `customer_key`, added by
    `friends_key`), `groups` ({name, order, tags: [{name, order}]}) and `limits`."""
    limits = entry.get("limits") or {}
    corp = Corp(make_id, limits.get("tags_per_app"), limits.get("tags_per_subject"))
    corp.add_members(entry.get("members") or [])
    for c in entry.get("customers") or []:
        corp.add_customer(c[customer_key], c.get(friends_key) or [])
    for g in entry.get("groups") or []:
        corp.seed_group(g["name"], g.get("order", 0), [(t["name"], t.get("order", 0)) for t in g["tags"]])
    return corp
