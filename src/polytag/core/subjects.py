"""The users of an app: ext_id <-> dense ordinal, cached in memory per app and kept at head."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

from polytag.core.models import App
from polytag.store import Store, Tx
from polytag.store.rows import Rows


class Directory:
    """ext_id <-> ord of one app. Ordinals are dense and never reused, so catching up is an append."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.ords: dict[str, int] = {}
        self.lock = threading.Lock()

    def extend_from(self, rows: Rows, app_id: int) -> None:
        with self.lock:
            for ord_, ext in rows.subject_ids_from(app_id, len(self.ids)):
                if ord_ == len(self.ids):
                    self.ids.append(ext)
                    self.ords[ext] = ord_


class Subjects:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._dirs: dict[int, Directory] = {}
        self._lock = threading.Lock()

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
        return d

    def forget(self, app_id: int) -> None:
        with self._lock:
            self._dirs.pop(app_id, None)

    def ords_of(self, app: App, ext_ids: Sequence[str], rows: Rows | None = None) -> list[int | None]:
        """The ordinal of each of `ext_ids` (None where there is none), in order.

        Inside a write group the directory's freshness is checked once per group: the group
        holds the write lock, so nobody else can add subjects meanwhile (ours are found by
        the re-check against the transaction's rows)."""
        group = getattr(rows, "group", None)
        key = ("directory", app.id)
        if group is not None and key in group:
            d = group[key]
        else:
            d = self.directory(app, self.store.read())
            if group is not None:
                group[key] = d
        get = d.ords.get
        ords = [get(e) for e in ext_ids]
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
            for i, ext in enumerate(new):
                have[ext] = first + i
        return [have[e] for e in ext_ids]
