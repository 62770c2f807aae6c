"""Tags as plain strings on accounts (a tag is its name): add, remove, clear, read; all or nothing.

A tag exists while someone carries it: the last removal drops it, so the per-app cap counts
distinct tags in use. Per-request counts ("10 tags per user per request") are batch limits.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyroaring import BitMap

from polytag.core.batches import check_batch
from polytag.core.memberships import Memberships
from polytag.core.models import App
from polytag.core.subjects import Subjects
from polytag.core.tags import Tags, check_name
from polytag.errors import Invalid, LimitExceeded
from polytag.store import Store, Tx

Items = Sequence[tuple[str, Sequence[str]]]  # (account, tag names)


class UserTags:
    def __init__(self, store: Store, subjects: Subjects, tags: Tags, memberships: Memberships) -> None:
        self.store = store
        self.subjects = subjects
        self.tags = tags
        self.memberships = memberships

    def _check_request(self, app: App, items: Items, per_request: str | None) -> None:
        """Batch size, then each user's tag count in the request, then each name."""
        check_batch(app, "accounts", len(items))
        cap = app.limits.batch_max(per_request) if per_request else None
        for _, names in items:
            if cap is not None and len(names) > cap:
                raise LimitExceeded(f"batch:{per_request}", len(names), cap)
        for _, names in items:
            for name in names:
                if per_request:
                    check_name(app.limits, name)
                elif not isinstance(name, str):
                    raise Invalid("name", "type", name)

    def add(self, tx: Tx, app: App, items: Items) -> None:
        """Order: batch, tags per user in the request, names, accounts, per-user cap, per-app cap."""
        if not items:
            return
        self._check_request(app, items, "tags_per_request")
        self._attach(tx, app, self.subjects.resolve(app, [a for a, _ in items], tx, active=True), items)

    def _attach(self, tx: Tx, app: App, ords: Sequence[int], items: Items) -> None:
        wanted: dict[str, BitMap] = {}
        for o, (_, names) in zip(ords, items, strict=True):
            for name in names:
                wanted.setdefault(name, BitMap()).add(o)
        for name, who in wanted.items():
            tag = self.tags.create(tx, app, name, ext_id=name, exists_ok=True)
            self.memberships.add(tx, app, tag.ord, who, app.limits.tags_per_subject)

    def replace(self, tx: Tx, app: App, items: Items) -> None:
        """Each user's tags become exactly these (timpush `Replace: 1`): up to the per-user cap in
        one request instead of the per-request 10. Order as `add`; tags left unused cease to exist."""
        if not items:
            return
        check_batch(app, "accounts", len(items))
        cap = app.limits.tags_per_subject
        for _, names in items:
            if cap is not None and len(names) > cap:
                raise LimitExceeded("batch:tags_per_request", len(names), cap)
        for _, names in items:
            for name in names:
                check_name(app.limits, name)
        ords = self.subjects.resolve(app, [a for a, _ in items], tx, active=True)
        self.clear(tx, app, ords)
        self._attach(tx, app, ords, items)

    def remove(self, tx: Tx, app: App, items: Items) -> None:
        if not items:
            return
        self._check_request(app, items, None)
        ords = self.subjects.resolve(app, [a for a, _ in items], tx, active=True)
        unwanted: dict[str, BitMap] = {}
        for o, (_, names) in zip(ords, items, strict=True):
            for name in names:
                unwanted.setdefault(name, BitMap()).add(o)
        for name, who in unwanted.items():
            tag = self.tags.find(app, name, tx)
            if tag is not None:
                self.memberships.remove(tx, app, tag.ord, who)
                self._drop_if_unused(tx, app, tag.ord, tag.ext_id)

    def remove_all(self, tx: Tx, app: App, accounts: Sequence[str]) -> None:
        if not accounts:
            return
        check_batch(app, "accounts", len(accounts))
        self.clear(tx, app, self.subjects.resolve(app, accounts, tx, active=True))

    def clear(self, tx: Tx, app: App, ords: Sequence[int]) -> None:
        """Take every tag off these subjects."""
        who = BitMap(ords)
        for row in tx.tags(app.id):
            tag_ord, ext = int(row[0]), str(row[1])
            if self.memberships.remove(tx, app, tag_ord, who):
                self._drop_if_unused(tx, app, tag_ord, ext)

    def _drop_if_unused(self, tx: Tx, app: App, tag_ord: int, ext: str) -> None:
        if not self.memberships.members_in_tx(tx, app, tag_ord):
            self.tags.delete(tx, app, ext)

    def get(self, app: App, accounts: Sequence[str]) -> list[tuple[str, list[str]]]:
        """Each account's tags in tag creation order; [] for an account that is not imported."""
        if not accounts:
            return []
        check_batch(app, "accounts", len(accounts))
        rows = self.store.read()
        have = self.subjects.find(app, accounts, rows, active=True)
        idx = self.memberships.index(app, rows)
        tags = self.tags.all(app, rows, idx)
        with idx.lock:
            held = {o: set(idx.tags_of(o)) for o in set(have.values())}
        return [(a, [t.ext_id for t in tags if a in have and t.ord in held[have[a]]]) for a in accounts]
