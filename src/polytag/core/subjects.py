"""The users of an app: ext_id <-> dense ordinal, cached in memory per app and kept at head."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterable, Sequence

from polytag.core.models import App
from polytag.core.ordmap import OrdMap
from polytag.core.resident import Resident
from polytag.store import Store, Tx
from polytag.store.rows import Rows


class Directory:
    """ext_id <-> ord of one app. Ordinals are dense and never reused, so catching up is an append."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.ords = OrdMap()  # looked up a batch at a time (polytag.core.ordmap)
        self.lock = threading.Lock()
        self.text_bytes = 0  # of the ext_id strings (the list and the map share them)

    def memory(self) -> int:
        """Bytes held: the strings, the list, the map (O(1): the strings are added up as they come)."""
        return self.text_bytes + sys.getsizeof(self.ids) + self.ords.memory()

    def _extend(self, new: Sequence[str], first: int) -> None:  # under the lock
        self.ids.extend(new)
        self.ords.extend(new, first)
        self.text_bytes += sum(map(sys.getsizeof, new))

    def extend_from(self, rows: Rows, app_id: int) -> None:
        with self.lock:
            first = len(self.ids)
            new: list[str] = []
            for ord_, ext in rows.subject_ids_from(app_id, first):
                if ord_ == first + len(new):
                    new.append(ext)
            self._extend(new, first)

    def append(self, first: int, ext_ids: Sequence[str]) -> None:
        """Subjects a committed group created with ords first.. (skipped unless they come next:
        then `extend_from` reads them when someone needs them)."""
        with self.lock:
            if len(self.ids) == first:
                self._extend(ext_ids, first)


class GroupView:
    """The subjects of one app as a write group sees them: the directory (complete at the
    group's start, since the group holds the write lock) plus what the group created."""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory
        self.created: dict[str, int] = {}

    def forget(self, ext_ids: Sequence[str]) -> None:  # the op that created them was rolled back
        for ext in ext_ids:
            self.created.pop(ext, None)


def drop_group_view(tx: Tx, app_id: int) -> None:
    """An op that replaced an app's rows (reset, snapshot load): later ops of its group read anew."""
    tx.group.pop(("subjects", app_id), None)


class Subjects:
    def __init__(self, store: Store, resident: Resident | None = None) -> None:
        self.store = store
        self._dirs: dict[int, Directory] = {}
        self._lock = threading.Lock()
        self.resident = resident  # which apps keep their directory (it calls `forget`)
        if resident is not None:
            resident.hold(self)

    def directory(self, app: App, rows: Rows | None = None, known: int | None = None) -> Directory:
        """The app's directory with every subject that exists at the caller's snapshot."""
        rows = rows or self.store.read()
        d = self._dirs.get(app.id)
        if d is None:
            with self._lock:
                d = self._dirs.setdefault(app.id, Directory())
        if known is None:
            head = rows.app_head(app.id)
            known = head[1] if head else 0
            if len(d.ids) > known:  # fewer subjects than we knew: the app was reset
                with self._lock:
                    d = self._dirs[app.id] = Directory()
        if len(d.ids) < known:
            d.extend_from(rows, app.id)
        if self.resident is not None:
            self.resident.used(app.id)
        return d

    def forget(self, app_id: int) -> None:
        with self._lock:
            self._dirs.pop(app_id, None)

    def bytes_of(self, app_id: int) -> int:
        d = self._dirs.get(app_id)
        return 0 if d is None else d.memory()

    def group_view(self, app: App, rows: Rows | None) -> GroupView | None:
        """The app's subjects as the caller's write group sees them (None outside a group).

        Built once per group, after the group took the write lock (BEGIN IMMEDIATE, or
        PostgreSQL's advisory lock): nobody else can add subjects until it commits, and every
        subject the group adds goes through `create`, which records it here."""
        group = getattr(rows, "group", None)
        if group is None:
            return None
        key = ("subjects", app.id)
        view: GroupView | None = group.get(key)
        if view is None:  # once per group
            view = group[key] = GroupView(self.directory(app, self.store.read()))
        return view

    def ords_of(self, app: App, ext_ids: Sequence[str], rows: Rows | None = None) -> list[int | None]:
        """The ordinal of each of `ext_ids` (None where there is none), in order.

        Inside a write group the directory's freshness is checked once per group: the group
        holds the write lock, so nobody else can add subjects meanwhile, and the group's own
        new subjects are in its view (`group_view`). Outside a group a miss is re-checked
        against the rows."""
        view = self.group_view(app, rows)
        if view is not None:  # in a write group a miss is a subject that does not exist
            # one call for the batch: this runs on every vendor write
            ords = view.directory.ords.get_many(ext_ids)
            if view.created and None in ords:
                made = view.created.get
                ords = [made(e) if o is None else o for e, o in zip(ext_ids, ords, strict=True)]
            return ords
        ords = self.directory(app, self.store.read()).ords.get_many(ext_ids)
        if None in ords:
            missing = [e for e, o in zip(ext_ids, ords, strict=True) if o is None]
            found: dict[str, int] = {str(e): int(o) for e, o in (rows or self.store.read()).subject_ords(app.id, missing)}
            ords = [o if o is not None else found.get(e) for e, o in zip(ext_ids, ords, strict=True)]
        return ords

    def lookup(self, app: App, ext_ids: Iterable[str], rows: Rows | None = None) -> dict[str, int]:
        """ext_id -> ord for those that exist (a miss is re-checked against the rows).

        The directory only ever holds committed subjects (it is filled from a reader
        connection); subjects created earlier in the caller's transaction are found by
        the re-check against `rows`."""
        view = self.group_view(app, rows)
        if view is not None:
            ext_ids = list(ext_ids)
            ords = self.ords_of(app, ext_ids, rows)
            return {ext: o for ext, o in zip(ext_ids, ords, strict=True) if o is not None}
        d = self.directory(app, self.store.read())
        rows = rows or self.store.read()
        found: dict[str, int] = {}
        missing: list[str] = []
        for ext in ext_ids:
            o = d.ords.get(ext)
            if o is None:
                missing.append(ext)
            else:
                found[ext] = o
        if missing:
            for ext, o in rows.subject_ords(app.id, missing):
                found[ext] = int(o)
        return found

    def ext_ids(self, app: App, ords: Sequence[int], rows: Rows | None = None) -> list[str]:
        rows = rows or self.store.read()
        d = self.directory(app, rows, known=(max(ords) + 1) if ords else 0)
        ids = d.ids
        return [ids[o] for o in ords]

    def create(self, tx: Tx, app: App, ext_ids: Sequence[str], now: int) -> list[int]:
        """Add subjects not yet known (in order, duplicates once); returns the ords of all of them.
        `now` is in whole seconds (it is WeChat's subscribe_time)."""
        have = self.lookup(app, ext_ids, tx)
        new: list[str] = []
        seen: set[str] = set()
        for ext in ext_ids:
            if ext not in have and ext not in seen:
                seen.add(ext)
                new.append(ext)
        if new:
            first = tx.bump_counter(app.id, "next_subject", len(new))
            tx.insert_subjects(app.id, first, new, now)
            made = dict(zip(new, range(first, first + len(new)), strict=True))
            have.update(made)
            view = self.group_view(app, tx)
            if view is not None:
                view.created.update(made)
                tx.on_abort.append(lambda: view.forget(new))
                tx.after_commit.append(lambda: view.directory.append(first, new))
        return [have[e] for e in ext_ids]
