"""Who carries which tag: the durable log, the per-app index that caches it, and folding.

Every change is an op in a group commit: it reads the index plus the group's pending
changes, checks the app's limits, appends one log row and records itself as pending;
the index takes the change only once the group is durable.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from pyroaring import BitMap

from polytag.core.index import OP_ADD, OP_DROP, OP_REMOVE, AppIndex
from polytag.core.models import App
from polytag.core.pending import Pending
from polytag.core.resident import Resident
from polytag.errors import LimitExceeded
from polytag.store import Store, Tx
from polytag.store.rows import Rows

log = logging.getLogger("polytag.core")

FOLD_EVERY = 4096


class _Stale(Exception):
    """The cached index fell behind a fold; it was dropped and must be loaded again."""  # log entries per app before they are folded into chunks


class Memberships:
    def __init__(self, store: Store, fold_every: int = FOLD_EVERY, resident: Resident | None = None) -> None:
        self.store = store
        self.fold_every = fold_every
        self._indexes: dict[int, AppIndex] = {}
        self.resident = resident  # which apps keep their index (it calls `forget`)
        if resident is not None:
            resident.hold(self)
        self._load_lock = threading.Lock()
        self._folding: set[int] = set()
        # index cache lookups, read by /metrics (plain ints: a lost increment under a thread race
        # costs a metric one count, a lock would cost every lookup)
        self.hits = self.loads = self.catch_ups = 0

    # the index, fresh -------------------------------------------------------
    def index(self, app: App, rows: Rows | None = None) -> AppIndex:
        """The app's index at the app's current head (loading or catching up as needed)."""
        for _ in range(3):
            try:
                return self._index(app, rows or self.store.read())
            except _Stale:
                continue
        return self._index(app, rows or self.store.read())

    def _index(self, app: App, rows: Rows) -> AppIndex:
        head = rows.app_head(app.id)
        if head is None:
            self.forget(app.id)
            return AppIndex(app.id)
        mseq, next_subject, _, folded = head
        idx = self._indexes.get(app.id)
        hit = True
        if idx is None or folded > idx.seq or idx.seq > mseq:  # the head moved back: a reset
            with self._load_lock:
                idx = self._indexes.get(app.id)
                if idx is None or folded > idx.seq or idx.seq > mseq:
                    idx = self._load(app.id, rows, next_subject)
                    self._indexes[app.id] = idx
                    self.loads += 1
                    hit = False
        if hit:  # one count per lookup: a load that still had to catch up is a load
            if idx.seq < mseq:
                self.catch_ups += 1
            else:
                self.hits += 1
        if folded > max(idx.folded_seq, idx.pruned) and idx.unloaded:  # once per fold seen
            idx.prune(folded)
        if idx.seq < mseq:
            self._catch_up(idx, rows)
        if self.resident is not None:
            self.resident.used(app.id)
        return idx

    def forget(self, app_id: int) -> None:
        with self._load_lock:
            self._indexes.pop(app_id, None)

    def bytes_of(self, app_id: int) -> int:
        idx = self._indexes.get(app_id)
        return 0 if idx is None else idx.memory()

    def _load(self, app_id: int, rows: Rows, n_subjects: int) -> AppIndex:
        """A fresh index from chunks + log. Chunks, head and log must come from one state: a
        fold may commit between the reads, so they run in a snapshot where the backend has
        one, and are read again if the fold point moved meanwhile (any backend)."""
        while True:
            with rows.snapshot():
                folded = self._folded(rows, app_id)
                tag_ords = rows.tag_ords(app_id)
                log = rows.log_after(app_id, folded)
                if self._folded(rows, app_id) == folded:
                    break
        idx = AppIndex(app_id, lambda tags, rows: self._chunks(app_id, tags, rows))
        with idx.lock:
            idx.unloaded = {tag_ord: [] for tag_ord in tag_ords}  # each read from its chunks on first use
            idx.seq = idx.folded_seq = folded
            idx.defer_counts(n_subjects)
            for seq, tag_ord, op, blob in log:
                idx.apply(seq, tag_ord, op, BitMap.deserialize(bytes(blob)))
        return idx

    def _chunks(self, app_id: int, tags: Sequence[int] | None, rows: Rows | None
                ) -> tuple[int, list[Any]]:
        """The fold point and the chunks of `tags` (None: all), read in one state: the
        caller's transaction, or a fresh snapshot."""
        rows = rows or self.store.read()
        with rows.snapshot():
            return self._folded(rows, app_id), rows.chunks(app_id, tags)

    @staticmethod
    def _folded(rows: Rows, app_id: int) -> int:
        head = rows.app_head(app_id)
        return int(head[3]) if head else 0

    def _catch_up(self, idx: AppIndex, rows: Rows) -> None:
        with idx.lock:
            entries = rows.log_after(idx.app_id, idx.seq)
            if entries and entries[0][0] != idx.seq + 1:
                # a fold trimmed the log past us between our head read and this one: reload
                self.forget(idx.app_id)
                raise _Stale
            for seq, tag_ord, op, blob in entries:
                if seq > idx.seq:
                    idx.apply(seq, tag_ord, op, BitMap.deserialize(bytes(blob)))

    # inside a write op ------------------------------------------------------
    def pending(self, tx: Tx, app: App) -> Pending:
        """This group's pending changes for the app (the first op of a group brings the index to head)."""
        key = ("memberships", app.id)
        pend = tx.group.get(key)
        if pend is None:
            idx = self.index(app, tx)
            idx.load(rows=tx)  # writes see every tag (caps, folds); reads load only what they name
            pend = tx.group[key] = Pending(idx)
            tx.before_commit.append(lambda: self._write_head(tx, app.id, pend))
            tx.after_group.append(lambda: self._apply_pending(pend))
        return pend

    def _apply_pending(self, pend: Pending) -> None:
        idx = pend.index
        with idx.lock:
            entries = [e for e in pend.entries if e[0] > idx.seq]
            if entries and entries[0][0] != idx.seq + 1:  # a gap: someone else's came first; read them
                self.forget(idx.app_id)
                return
            if entries:
                try:
                    idx.apply_group(entries)
                except Exception:  # half applied: nobody may read it; the next reader loads anew
                    self.forget(idx.app_id)
                    raise
            for tag_ord in pend.created:
                if tag_ord not in pend.dropped:
                    idx.ensure_tag(tag_ord)
        if idx.seq - idx.folded_seq >= self.fold_every and idx.app_id not in self._folding:
            self._folding.add(idx.app_id)
            self.store.submit(lambda tx: self._fold(tx, idx), pure=True, app=idx.app_id)

    @staticmethod
    def _write_head(tx: Tx, app_id: int, pend: Pending) -> None:
        """Once per group: the app's log head and the version of every tag the group touched."""
        if not pend.entries:
            return
        tx.append_log_rows(app_id, [(seq, t, op, bm.serialize()) for seq, t, op, bm in pend.entries])
        tx.set_counter(app_id, "mseq", pend.entries[-1][0])
        versions: dict[int, int] = {}
        for seq, tag_ord, _op, _subjects in pend.entries:
            versions[tag_ord] = seq
        tx.set_tag_versions(app_id, versions.items())

    def _append(self, tx: Tx, app: App, pend: Pending, tag_ord: int, op: int, subjects: BitMap) -> int:
        # sequence numbers are handed out in memory: the index is at the head for this group,
        # and the writer holds the database's write lock until COMMIT
        # the log rows themselves are written once per group, just before COMMIT
        seq = (pend.entries[-1][0] if pend.entries else pend.index.seq) + 1
        pend.record(seq, tag_ord, op, subjects)
        tx.on_abort.append(lambda: pend.undo(seq))
        return seq

    def add(self, tx: Tx, app: App, tag_ord: int, subjects: BitMap, per_subject_cap: int | None) -> BitMap:
        """Tag `subjects`; all or nothing. Returns those that were not tagged before."""
        pend = self.pending(tx, app)
        new = subjects - pend.has(tag_ord, subjects)
        if new and per_subject_cap is not None:
            worst = pend.over_cap(new, per_subject_cap)
            if worst is not None:
                raise LimitExceeded("tags_per_subject", worst, per_subject_cap)
        if new:
            self._append(tx, app, pend, tag_ord, OP_ADD, new)
        return new

    def remove(self, tx: Tx, app: App, tag_ord: int, subjects: BitMap) -> BitMap:
        pend = self.pending(tx, app)
        gone = pend.has(tag_ord, subjects)
        if gone:
            self._append(tx, app, pend, tag_ord, OP_REMOVE, gone)
        return gone

    def drop_tag(self, tx: Tx, app: App, tag_ord: int) -> None:
        pend = self.pending(tx, app)
        self._append(tx, app, pend, tag_ord, OP_DROP, BitMap())
        tx.drop_tag_chunks(app.id, tag_ord)

    def created_tag(self, tx: Tx, app: App, tag_ord: int) -> None:
        self.pending(tx, app).created.add(tag_ord)

    def members_in_tx(self, tx: Tx, app: App, tag_ord: int) -> BitMap:
        return self.pending(tx, app).members(tag_ord)

    def counts_in_tx(self, tx: Tx, app: App, ords: Iterable[int]) -> np.ndarray:
        return self.pending(tx, app).counts(np.fromiter(ords, dtype=np.uint32))

    # folding ----------------------------------------------------------------
    def _fold(self, tx: Tx, idx: AppIndex) -> None:
        """Write the chunks changed since the last fold and trim the log up to the index's seq."""
        try:
            head = tx.app_head(idx.app_id)
            committed = head[0] if head else -1  # apps.mseq moves only at the end of a group
            if committed != idx.seq:
                return  # another process moved on; the next fold will catch up
            upto = idx.seq
            idx.load(rows=tx)
            with idx.lock:
                todo = {k: s for k, s in idx.dirty.items() if s <= upto}
                rows = [(t, c, idx.chunk_bits(t, c)) for (t, c) in todo]
            tx.put_chunks(idx.app_id, rows)
            tx.set_folded(idx.app_id, upto)
            tx.trim_log(idx.app_id, upto)

            def done() -> None:
                with idx.lock:
                    for k, s in todo.items():
                        if idx.dirty.get(k) == s:
                            del idx.dirty[k]
                    idx.folded_seq = max(idx.folded_seq, upto)

            tx.after_commit.append(done)
        finally:
            self._folding.discard(idx.app_id)
