"""The users of an app: ext_id <-> dense ordinal, cached in memory per app and kept at head.

`resolve` and `find` are the one way from external ids to ordinals: one rule for a missing id
(`missing`), and `active=True` to count only active subjects, learnt from the directory.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterable, Sequence

from pyroaring import BitMap

from polytag.core.models import App
from polytag.core.ordmap import OrdMap
from polytag.core.resident import Resident
from polytag.errors import Forbidden, NotFound
from polytag.store import Store, Tx
from polytag.store.rows import Rows


class Directory:
    """ext_id <-> ord of one app. Ordinals are dense and never reused, so catching up is an append."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.ords = OrdMap()  # looked up a batch at a time (polytag.core.ordmap)
        self.lock = threading.Lock()
        self.text_bytes = 0  # of the ext_id strings (the list and the map share them)
        # the inactive subjects, with the store generation they were read under (see `inactive`)
        self.inactive: tuple[BitMap, int] | None = None

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

    def _ords(self, app: App, ext_ids: Sequence[str], rows: Rows | None = None) -> list[int | None]:
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

    def find(self, app: App, ext_ids: Iterable[str], rows: Rows | None = None, *,
             active: bool = False) -> dict[str, int]:
        """ext_id -> ord for those of `ext_ids` that exist (and are active, with `active`); a miss
        is no error. Subjects created earlier in the caller's write group are found too."""
        ext_ids = list(ext_ids)
        ords = self._ords(app, ext_ids, rows)
        found = {ext: o for ext, o in zip(ext_ids, ords, strict=True) if o is not None}
        if active and found:
            off = self.inactive_among(app, list(found.values()), rows)
            if off:
                found = {ext: o for ext, o in found.items() if o not in off}
        return found

    def resolve(self, app: App, ext_ids: Sequence[str], rows: Rows | None = None, *,
                active: bool = False) -> list[int]:
        """The ordinal of each of `ext_ids`, in order; the first one missing raises (`missing`)."""
        found = self.find(app, ext_ids, rows, active=active)
        if len(found) < len(ext_ids):
            for ext in ext_ids:
                if ext not in found:
                    raise self.missing(app, ext, rows)
        return [found[ext] for ext in ext_ids]

    def missing(self, app: App, ext_id: str, rows: Rows | None = None) -> Exception:
        """The one rule for an id the app does not have (or not active): Forbidden("other_app")
        when only other apps know it, NotFound("subject") otherwise. Each dialect renders both."""
        holders = (rows or self.store.read()).apps_holding(ext_id)
        if holders and app.id not in holders:
            return Forbidden("other_app", ext_id)
        return NotFound("subject", ext_id)

    def inactive_among(self, app: App, ords: Sequence[int], rows: Rows | None = None) -> set[int]:
        """Which of `ords` are inactive. Outside a write group, on a store whose caches are safe
        (a shared generation), from the directory's copy, read again once the generation moved;
        otherwise (a write group, PostgreSQL) one indexed read of those ordinals."""
        generation = self.store.generation
        if generation is None or getattr(rows, "group", None) is not None:
            return set((rows or self.store.read()).inactive_ords(app.id, ords))
        d = self.directory(app)
        held = d.inactive
        if held is None or held[1] != generation.value:
            mark = generation.value  # before the read: a write landing meanwhile makes it stale
            held = d.inactive = (BitMap(self.store.read().inactive_ords(app.id)), mark)
        return {o for o in ords if o in held[0]}

    def ext_ids(self, app: App, ords: Sequence[int], rows: Rows | None = None) -> list[str]:
        rows = rows or self.store.read()
        d = self.directory(app, rows, known=(max(ords) + 1) if ords else 0)
        ids = d.ids
        return [ids[o] for o in ords]

    def create(self, tx: Tx, app: App, ext_ids: Sequence[str], now: int) -> list[int]:
        """Add subjects not yet known (in order, duplicates once); returns the ords of all of them.
        `now` is in whole seconds."""
        have = self.find(app, ext_ids, tx)
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
