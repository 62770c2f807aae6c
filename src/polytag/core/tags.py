"""Tags and tag groups: names, vendor ids, order, the per-app cap and name uniqueness."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from polytag.core.index import AppIndex
from polytag.core.limits import Limits
from polytag.core.memberships import Memberships
from polytag.core.models import App, Tag, TagGroup
from polytag.core.text import check_text
from polytag.errors import Conflict, Forbidden, Invalid, LimitExceeded, NotFound
from polytag.store import Store, Tx
from polytag.store.rows import Rows

IdMaker = Callable[[App, str, int], str]  # (app, "tag"|"group", ordinal) -> ext_id


def tag_from_row(row: tuple[Any, ...], count: int = 0) -> Tag:
    ord_, ext, name, group, order, created, version = row
    return Tag(ord=ord_, ext_id=ext, name=name, group_ord=group, order=order,
               created_ms=created, version=version, count=count)


def group_from_row(row: tuple[Any, ...]) -> TagGroup:
    ord_, ext, name, order, created = row
    return TagGroup(ord=ord_, ext_id=ext, name=name, order=order, created_ms=created)


def check_name(limits: Limits, name: object, field: str = "name") -> str:
    if not isinstance(name, str):
        raise Invalid(field, "type", name)
    if not name.strip():
        raise Invalid(field, "empty", name)
    check_text(field, name)
    if limits.measure(name) > limits.tag_name_max:
        raise Invalid(field, "too_long", name)
    return name


class Tags:
    def __init__(self, store: Store, memberships: Memberships, make_id: IdMaker) -> None:
        self.store = store
        self.memberships = memberships
        self.make_id = make_id

    # reads ------------------------------------------------------------------
    def all(self, app: App, rows: Rows | None = None, index: AppIndex | None = None) -> list[Tag]:
        rows = rows or self.store.read()
        idx = index or self.memberships.index(app, rows)
        return [tag_from_row(r, len(idx.members(r[0]))) for r in rows.tags(app.id)]

    def get(self, app: App, ext_id: str, rows: Rows | None = None) -> Tag:
        row = (rows or self.store.read()).tag_by_ext(app.id, str(ext_id))
        if row is None:
            raise NotFound("tag", ext_id)
        group: dict[Any, Any] | None = getattr(rows, "group", None)
        if group is None:
            return tag_from_row(row)
        made: dict[tuple[Any, ...], Tag] = group.setdefault("tags_made", {})  # the same row, the same Tag
        tag = made.get(row)
        if tag is None:
            tag = made[row] = tag_from_row(row)
        return tag

    def find(self, app: App, name: str, rows: Rows | None = None, group_ord: int | None = None) -> Tag | None:
        for row in (rows or self.store.read()).tags_by_name(app.id, name):
            if group_ord is None or row[3] == group_ord:
                return tag_from_row(row)
        return None

    def groups(self, app: App, rows: Rows | None = None) -> list[TagGroup]:
        return [group_from_row(r) for r in (rows or self.store.read()).groups(app.id)]

    def group(self, app: App, ext_id: str, rows: Rows | None = None) -> TagGroup:
        row = (rows or self.store.read()).group_by_ext(app.id, str(ext_id))
        if row is None:
            raise NotFound("group", ext_id)
        return group_from_row(row)

    # writes -----------------------------------------------------------------
    def _custom_count(self, tx: Tx, app: App) -> int:
        reserved = set(app.config.get("reserved_tags", ()))
        if not reserved:
            return tx.count_tags(app.id)
        return sum(1 for r in tx.tags(app.id) if r[1] not in reserved)

    def create(
        self, tx: Tx, app: App, name: str, *, group_ord: int | None = None, order: int = 0,
        ext_id: str | None = None, now_ms: int = 0, unique: str = "app", exists_ok: bool = False,
        reserved: bool = False,
    ) -> Tag:
        """Create a tag. `unique` is "app" (names unique per app) or "group" (per group)."""
        if not reserved:
            check_name(app.limits, name)
        clash = self.find(app, name, tx, group_ord if unique == "group" else None)
        if clash is not None:
            if exists_ok:
                return clash
            raise Conflict("tag_name", name)
        cap = app.limits.tags_per_app
        if cap is not None and not reserved:
            have = self._custom_count(tx, app)
            if have + 1 > cap:
                raise LimitExceeded("tags_per_app", have + 1, cap)
        ord_ = tx.bump_counter(app.id, "next_tag")
        ext = ext_id if ext_id is not None else self.make_id(app, "tag", ord_)
        tx.insert_tag(app.id, ord_, ext, name, group_ord, order, now_ms)
        self.memberships.created_tag(tx, app, ord_)
        return Tag(ord=ord_, ext_id=ext, name=name, group_ord=group_ord, order=order, created_ms=now_ms)

    def _modifiable(self, tx: Tx, app: App, ext_id: str) -> Tag:
        if str(ext_id) in set(app.config.get("reserved_tags", ())):
            raise Forbidden("reserved_tag", ext_id)
        return self.get(app, ext_id, tx)

    def update(
        self, tx: Tx, app: App, ext_id: str, *, name: str | None = None, order: int | None = None,
        unique: str = "app",
    ) -> Tag:
        tag = self._modifiable(tx, app, ext_id)
        if name is not None:
            check_name(app.limits, name)
            clash = self.find(app, name, tx, tag.group_ord if unique == "group" else None)
            if clash is not None and clash.ord != tag.ord:
                raise Conflict("tag_name", name)
        tx.update_tag(app.id, tag.ord, name=name, order=order)
        return tag

    def delete(self, tx: Tx, app: App, ext_id: str) -> Tag:
        tag = self._modifiable(tx, app, ext_id)
        cap = app.limits.tag_delete_max_members
        if cap is not None:
            members = len(self.memberships.members_in_tx(tx, app, tag.ord))
            if members > cap:
                raise LimitExceeded("tag_delete_max_members", members, cap)
        self.memberships.drop_tag(tx, app, tag.ord)
        tx.delete_tag_row(app.id, tag.ord)
        return tag

    def create_group(self, tx: Tx, app: App, name: str, *, order: int = 0, now_ms: int = 0) -> TagGroup:
        check_name(app.limits, name, "group_name")
        if tx.groups_by_name(app.id, name):
            raise Conflict("group_name", name)
        ord_ = tx.bump_counter(app.id, "next_group")
        ext = self.make_id(app, "group", ord_)
        tx.insert_group(app.id, ord_, ext, name, order, now_ms)
        return TagGroup(ord=ord_, ext_id=ext, name=name, order=order, created_ms=now_ms)
