"""Tag groups: tags live in groups, groups list by `order`, empty groups vanish.

Dialect-neutral rules (any dialect with grouped tags, and the native API): a group is never empty (creating
one needs tags; deleting its last tag deletes it; deleting it deletes its tags and their
memberships); group names are unique per app, tag names per group; `order` is in [0, 2^32) and
larger sorts first, then older first; an id that belongs to another app is NotFound, exactly as one
nobody has (one app cannot learn which ids exist elsewhere).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from polytag.core.models import App, Tag, TagGroup
from polytag.core.tags import Tags, check_name, group_from_row, tag_from_row
from polytag.errors import Conflict, Invalid, NotFound
from polytag.store import Store, Tx
from polytag.store.rows import Rows

ORDER_MAX = 2**32  # exclusive: order in [0, 2^32)


@dataclass(frozen=True)
class Listing:
    """A group with (some of) its tags, both already in list order."""

    group: TagGroup
    tags: list[Tag]


def check_order(order: object) -> int:
    if isinstance(order, bool) or not isinstance(order, int):
        raise Invalid("order", "type", order)
    if not 0 <= order < ORDER_MAX:
        raise Invalid("order", "range", order)
    return order


def list_key(item: Tag | TagGroup) -> tuple[int, int, int]:
    """Larger order first, then older first (ties on the clock: creation order)."""
    return (-item.order, item.created_ms, item.ord)


class Groups:
    def __init__(self, store: Store, tags: Tags) -> None:
        self.store = store
        self.tags = tags

    # reads ------------------------------------------------------------------
    def tag(self, app: App, ext_id: str, rows: Rows | None = None) -> Tag:
        """The app's tag `ext_id`; NotFound when the app has none (another app's or nobody's)."""
        rows = rows or self.store.read()
        row = rows.tag_by_ext(app.id, ext_id)
        if row is None:
            raise NotFound("tag", ext_id)
        return tag_from_row(row)

    def group(self, app: App, ext_id: str, rows: Rows | None = None) -> TagGroup:
        rows = rows or self.store.read()
        row = rows.group_by_ext(app.id, ext_id)
        if row is None:
            raise NotFound("group", ext_id)
        return group_from_row(row)

    def tags_of(self, app: App, group: TagGroup, rows: Rows | None = None) -> list[Tag]:
        rows = rows or self.store.read()
        return sorted((tag_from_row(r) for r in rows.tags_in_group(app.id, group.ord)), key=list_key)

    def listing(self, app: App, rows: Rows | None = None) -> list[Listing]:
        """Every group with all its tags, in list order."""
        rows = rows or self.store.read()
        by_group: dict[int, list[Tag]] = {}
        with rows.snapshot():  # tags and groups of one state: never a new group without its tags
            tag_rows, group_rows = rows.tags(app.id), rows.groups(app.id)
        for r in tag_rows:
            if r[3] is not None:
                by_group.setdefault(r[3], []).append(tag_from_row(r))
        groups = sorted((group_from_row(r) for r in group_rows), key=list_key)
        return [Listing(g, sorted(by_group.get(g.ord, []), key=list_key)) for g in groups]

    def detail(self, app: App, tag_ext: str) -> Listing:
        """The tag inside its group (the group alone, without its other tags)."""
        rows = self.store.read()
        tag = self.tag(app, tag_ext, rows)
        row = rows.group_by_ord(app.id, tag.group_ord) if tag.group_ord is not None else None
        group = group_from_row(row) if row else TagGroup(ord=-1, ext_id="", name="")
        return Listing(group, [tag])

    # writes -----------------------------------------------------------------
    def add_tags(
        self, tx: Tx, app: App, tags: Sequence[tuple[str, int]], *, group_ext: str | None = None,
        group_name: str | None = None, group_order: int = 0, now_ms: int = 0,
    ) -> Listing:
        """Put (name, order) tags into a group: `group_ext` if given, else the group named `group_name`
        (created when absent). Names already in the group, or repeated, yield the existing tag once."""
        group = self._target(tx, app, group_ext, group_name, bool(tags), group_order, now_ms)
        seen: dict[str, Tag] = {}
        for name, order in tags:
            check_name(app.limits, name)
            check_order(order)
            if name not in seen:
                seen[name] = self.tags.create(tx, app, name, group_ord=group.ord, order=order, now_ms=now_ms,
                                              unique="group", exists_ok=True)
        return Listing(group, sorted(seen.values(), key=list_key))

    def _target(
        self, tx: Tx, app: App, group_ext: str | None, group_name: str | None, has_tags: bool,
        order: int, now_ms: int,
    ) -> TagGroup:
        group: TagGroup | None
        if group_ext:
            group = self.group(app, group_ext, tx)
        else:
            name = check_name(app.limits, group_name, "group_name")
            found = tx.groups_by_name(app.id, name)
            group = group_from_row(found[0]) if found else None
        if not has_tags:
            raise Invalid("tags", "empty")
        if group is None:
            group = self.tags.create_group(tx, app, name, order=check_order(order), now_ms=now_ms)
        return group

    def edit_group(self, tx: Tx, app: App, ext_id: str, *, name: str | None = None,
                   order: int | None = None) -> TagGroup:
        group = self.group(app, ext_id, tx)
        if name is None and order is None:
            raise Invalid("name_or_order", "empty")
        if order is not None:
            check_order(order)
        if name is not None:
            check_name(app.limits, name, "group_name")
            if any(r[0] != group.ord for r in tx.groups_by_name(app.id, name)):
                raise Conflict("group_name", name)
        tx.update_group(app.id, group.ord, name=name, order=order)
        return group

    def edit_tag(self, tx: Tx, app: App, ext_id: str, *, name: str | None = None,
                 order: int | None = None) -> Tag:
        tag = self.tag(app, ext_id, tx)
        if name is None and order is None:
            raise Invalid("name_or_order", "empty")
        if order is not None:
            check_order(order)
        return self.tags.update(tx, app, tag.ext_id, name=name, order=order, unique="group")

    def delete_groups(self, tx: Tx, app: App, ext_ids: Sequence[str]) -> None:
        """Delete groups with their tags and memberships; all ids are checked before anything goes."""
        if not ext_ids:
            raise Invalid("id", "empty")
        groups = {g.ord: g for g in (self.group(app, e, tx) for e in ext_ids)}
        for group in groups.values():
            for row in tx.tags_in_group(app.id, group.ord):
                self.tags.delete(tx, app, row[1])
            tx.delete_group_row(app.id, group.ord)

    def delete_tags(self, tx: Tx, app: App, ext_ids: Sequence[str]) -> None:
        """Delete tags (and their memberships); a group left without tags is deleted too."""
        if not ext_ids:
            raise Invalid("id", "empty")
        tags = {t.ord: t for t in (self.tag(app, e, tx) for e in ext_ids)}
        for tag in tags.values():
            self.tags.delete(tx, app, tag.ext_id)
        for group_ord in {t.group_ord for t in tags.values() if t.group_ord is not None}:
            if not tx.tags_in_group(app.id, group_ord):
                tx.delete_group_row(app.id, group_ord)
